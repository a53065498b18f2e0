"""Apps built on a sing-box or mihomo core (Hiddify, Clash Verge Rev, v2rayN, NekoBox/Throne, FlClash),
driven through the core's Clash-compatible REST controller."""
