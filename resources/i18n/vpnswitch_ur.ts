<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="ur_PK">
<context>
    <name>Backend</name>
    <message>
        <source>Custom commands</source>
        <translation>اپنی کمانڈز</translation>
    </message>
    <message>
        <source>VPN app (no command line)</source>
        <translation>وی پی این ایپ (کمانڈ لائن کے بغیر)</translation>
    </message>
    <message>
        <source>Tailscale exit node</source>
        <translation>Tailscale ایگزٹ نوڈ</translation>
    </message>
</context>
<context>
    <name>CommandEditor</name>
    <message>
        <source>e.g. /usr/bin/myvpn connect --server home</source>
        <translation>مثلاً /usr/bin/myvpn connect --server home</translation>
    </message>
    <message>
        <source>e.g. /usr/bin/myvpn disconnect</source>
        <translation>مثلاً /usr/bin/myvpn disconnect</translation>
    </message>
    <message>
        <source>optional: exits with 0 while connected</source>
        <translation>اختیاری: جڑے ہونے کی صورت میں 0 کے ساتھ ختم ہوتی ہے</translation>
    </message>
    <message>
        <source>a tunnel interface</source>
        <translation>ٹنل انٹرفیس</translation>
    </message>
    <message>
        <source>a local proxy</source>
        <translation>مقامی پراکسی</translation>
    </message>
    <message>
        <source>Traffic leaves through</source>
        <translation>ٹریفک کہاں سے نکلتی ہے</translation>
    </message>
    <message>
        <source>connect command returns once connected</source>
        <translation>کنیکٹ کمانڈ جڑتے ہی ختم ہو جاتی ہے</translation>
    </message>
    <message>
        <source>connect command keeps running while connected</source>
        <translation>کنیکٹ کمانڈ جڑے رہنے تک چلتی رہتی ہے</translation>
    </message>
    <message>
        <source>Mode</source>
        <translation>طریقہ</translation>
    </message>
    <message>
        <source>unknown</source>
        <translation>نامعلوم</translation>
    </message>
    <message>
        <source>UDP (e.g. WireGuard)</source>
        <translation>UDP (مثلاً WireGuard)</translation>
    </message>
    <message>
        <source>TCP (e.g. OpenVPN over TCP)</source>
        <translation>TCP (مثلاً TCP پر OpenVPN)</translation>
    </message>
    <message>
        <source>obfuscated (made to look like other traffic)</source>
        <translation>چھپی ہوئی (دوسری ٹریفک جیسی دکھنے والی)</translation>
    </message>
    <message>
        <source>Transport</source>
        <translation>ٹرانسپورٹ</translation>
    </message>
    <message>
        <source>optional, e.g. VPN_PASSWORD</source>
        <translation>اختیاری، مثلاً VPN_PASSWORD</translation>
    </message>
    <message>
        <source>Pass the secret in variable</source>
        <translation>راز اس متغیر میں دیں</translation>
    </message>
    <message>
        <source>Connect command</source>
        <translation>کنیکٹ کمانڈ</translation>
    </message>
    <message>
        <source>Disconnect command</source>
        <translation>ڈس کنیکٹ کمانڈ</translation>
    </message>
    <message>
        <source>Status command</source>
        <translation>اسٹیٹس کمانڈ</translation>
    </message>
    <message>
        <source>Tunnel interface</source>
        <translation>ٹنل انٹرفیس</translation>
    </message>
    <message>
        <source>Local proxy</source>
        <translation>مقامی پراکسی</translation>
    </message>
    <message>
        <source>Secret variable</source>
        <translation>راز کا متغیر</translation>
    </message>
    <message>
        <source>has an unmatched quote</source>
        <translation>میں واوین کا جوڑا پورا نہیں</translation>
    </message>
</context>
<context>
    <name>DesktopApp</name>
    <message>
        <source>vpnswitch could not start:</source>
        <translation>vpnswitch شروع نہیں ہو سکا:</translation>
    </message>
    <message>
        <source>Quit</source>
        <translation>بند کریں</translation>
    </message>
    <message>
        <source>Your settings file could not be used, so vpnswitch is running with default settings. The file is left as it is until you save; it is then kept next to the new one, so nothing you wrote is lost.</source>
        <translation>آپ کی سیٹنگز کی فائل استعمال نہیں ہو سکی، اس لیے vpnswitch بنیادی سیٹنگز کے ساتھ چل رہا ہے۔ جب تک آپ محفوظ نہ کریں، فائل جوں کی توں رہے گی؛ محفوظ کرنے پر اسے نئی فائل کے ساتھ الگ رکھ دیا جائے گا، تاکہ آپ کا لکھا کچھ بھی ضائع نہ ہو۔</translation>
    </message>
    <message>
        <source>No such profile</source>
        <translation>ایسی کوئی پروفائل نہیں</translation>
    </message>
    <message>
        <source>Check failed</source>
        <translation>جانچ ناکام رہی</translation>
    </message>
    <message>
        <source>Nothing to check</source>
        <translation>جانچنے کو کچھ نہیں</translation>
    </message>
    <message>
        <source>No profile is connected right now.</source>
        <translation>اس وقت کوئی پروفائل جڑی ہوئی نہیں۔</translation>
    </message>
    <message>
        <source>%1: %2</source>
        <translation>%1: %2</translation>
    </message>
    <message>
        <source>%1 of %2 sites answered.</source>
        <translation>%2 میں سے %1 سائٹس نے جواب دیا۔</translation>
    </message>
</context>
<context>
    <name>DetectedPage</name>
    <message>
        <source>Looking for VPN apps on this computer…</source>
        <translation>اس کمپیوٹر پر وی پی این ایپس تلاش کی جا رہی ہیں…</translation>
    </message>
    <message>
        <source>Look again</source>
        <translation>دوبارہ تلاش کریں</translation>
    </message>
    <message>
        <source>Found on this computer. Add the ones you want to use:</source>
        <translation>اس کمپیوٹر پر ملیں۔ جو استعمال کرنی ہوں انہیں شامل کریں:</translation>
    </message>
    <message>
        <source>No VPN apps were detected. You can still add a profile by hand on the Profiles page.</source>
        <translation>کوئی وی پی این ایپ نہیں ملی۔ آپ پروفائلز کے صفحے پر خود پروفائل شامل کر سکتے ہیں۔</translation>
    </message>
    <message>
        <source>Looking for VPN apps failed: %1</source>
        <translation>وی پی این ایپس کی تلاش ناکام رہی: %1</translation>
    </message>
    <message>
        <source>Add</source>
        <translation>شامل کریں</translation>
    </message>
    <message>
        <source>Added</source>
        <translation>شامل ہو گئی</translation>
    </message>
</context>
<context>
    <name>Engine</name>
    <message>
        <source>Switched to %1</source>
        <translation>%1 پر منتقل ہو گئے</translation>
    </message>
    <message>
        <source>Back online through %1</source>
        <translation>%1 کے ذریعے دوبارہ آن لائن</translation>
    </message>
    <message>
        <source>%1 is not working</source>
        <translation>%1 کام نہیں کر رہا</translation>
    </message>
    <message>
        <source>%1 cannot reach a site</source>
        <translation>%1 ایک سائٹ تک نہیں پہنچ پا رہا</translation>
    </message>
    <message>
        <source>%1 needs attention</source>
        <translation>%1 پر توجہ درکار ہے</translation>
    </message>
    <message>
        <source>Switching too often</source>
        <translation>بہت بار تبدیلی ہو رہی ہے</translation>
    </message>
    <message>
        <source>No working VPN</source>
        <translation>کوئی وی پی این کام نہیں کر رہا</translation>
    </message>
    <message>
        <source>No profiles</source>
        <translation>کوئی پروفائل نہیں</translation>
    </message>
    <message>
        <source>Every profile needs attention</source>
        <translation>ہر پروفائل پر توجہ درکار ہے</translation>
    </message>
    <message>
        <source>This network&apos;s DNS lies about a site</source>
        <translation>اس نیٹ ورک کا DNS ایک سائٹ کے بارے میں غلط جواب دیتا ہے</translation>
    </message>
    <message>
        <source>This network&apos;s DNS is blocked</source>
        <translation>اس نیٹ ورک کا DNS بند ہے</translation>
    </message>
    <message>
        <source>DNS lookups leave outside %1</source>
        <translation>DNS کے سوالات %1 سے باہر جا رہے ہیں</translation>
    </message>
</context>
<context>
    <name>GeneralPage</name>
    <message>
        <source>Start</source>
        <translation>آغاز</translation>
    </message>
    <message>
        <source>Start vpnswitch when I log in (in the tray, without a window)</source>
        <translation>لاگ اِن کرنے پر vpnswitch شروع کریں (ٹرے میں، ونڈو کے بغیر)</translation>
    </message>
    <message>
        <source>Notifications and language</source>
        <translation>اطلاعات اور زبان</translation>
    </message>
    <message>
        <source>Tell me when vpnswitch switches or a VPN fails</source>
        <translation>جب vpnswitch وی پی این بدلے یا کوئی وی پی این ناکام ہو تو مجھے بتائیں</translation>
    </message>
    <message>
        <source>Same as the system</source>
        <translation>سسٹم کے مطابق</translation>
    </message>
    <message>
        <source>Language</source>
        <translation>زبان</translation>
    </message>
    <message>
        <source>Files</source>
        <translation>فائلیں</translation>
    </message>
    <message>
        <source>Settings file</source>
        <translation>سیٹنگز کی فائل</translation>
    </message>
    <message>
        <source>Open the log folder</source>
        <translation>لاگ فولڈر کھولیں</translation>
    </message>
    <message>
        <source>Logs</source>
        <translation>لاگز</translation>
    </message>
    <message>
        <source>Could not read the login items: %1</source>
        <translation>لاگ اِن پر شروع ہونے والی چیزیں پڑھی نہیں جا سکیں: %1</translation>
    </message>
    <message>
        <source>On: your system starts vpnswitch at login (%1).</source>
        <translation>آن: آپ کا سسٹم لاگ اِن پر vpnswitch شروع کرتا ہے (%1)۔</translation>
    </message>
    <message>
        <source>Off: the entry %1 exists but is switched off in your system&apos;s startup settings. Tick the box to switch it on.</source>
        <translation>آف: اندراج %1 موجود ہے لیکن آپ کے سسٹم کی آغاز کی سیٹنگز میں بند ہے۔ اسے آن کرنے کے لیے خانے پر نشان لگائیں۔</translation>
    </message>
    <message>
        <source>Off: %1 starts a different program (%2). Tick the box to start this vpnswitch instead.</source>
        <translation>آف: %1 ایک دوسرا پروگرام شروع کرتا ہے (%2)۔ اس کی جگہ یہ vpnswitch شروع کرنے کے لیے خانے پر نشان لگائیں۔</translation>
    </message>
    <message>
        <source>Off.</source>
        <translation>آف۔</translation>
    </message>
</context>
<context>
    <name>HistoryKind</name>
    <message>
        <source>switched</source>
        <translation>تبدیلی</translation>
    </message>
    <message>
        <source>connected</source>
        <translation>جڑ گیا</translation>
    </message>
    <message>
        <source>health</source>
        <translation>صحت</translation>
    </message>
    <message>
        <source>check failed</source>
        <translation>جانچ ناکام</translation>
    </message>
    <message>
        <source>could not connect</source>
        <translation>جڑ نہ سکا</translation>
    </message>
    <message>
        <source>could not disconnect</source>
        <translation>منقطع نہ ہو سکا</translation>
    </message>
    <message>
        <source>needs attention</source>
        <translation>توجہ درکار</translation>
    </message>
    <message>
        <source>holding</source>
        <translation>رکا ہوا</translation>
    </message>
    <message>
        <source>no working VPN</source>
        <translation>کوئی وی پی این کام نہیں کر رہا</translation>
    </message>
    <message>
        <source>network lost</source>
        <translation>نیٹ ورک چلا گیا</translation>
    </message>
    <message>
        <source>network back</source>
        <translation>نیٹ ورک واپس آ گیا</translation>
    </message>
    <message>
        <source>going to sleep</source>
        <translation>سونے جا رہا ہے</translation>
    </message>
    <message>
        <source>woke from sleep</source>
        <translation>نیند سے جاگا</translation>
    </message>
    <message>
        <source>your action</source>
        <translation>آپ کا عمل</translation>
    </message>
    <message>
        <source>DNS problem</source>
        <translation>DNS کا مسئلہ</translation>
    </message>
    <message>
        <source>DNS leak</source>
        <translation>DNS لیک</translation>
    </message>
</context>
<context>
    <name>HistoryWindow</name>
    <message>
        <source>vpnswitch history</source>
        <translation>vpnswitch کا ریکارڈ</translation>
    </message>
    <message>
        <source>Day</source>
        <translation>دن</translation>
    </message>
    <message>
        <source>Refresh</source>
        <translation>تازہ کریں</translation>
    </message>
    <message>
        <source>Time</source>
        <translation>وقت</translation>
    </message>
    <message>
        <source>Event</source>
        <translation>واقعہ</translation>
    </message>
    <message>
        <source>Profile</source>
        <translation>پروفائل</translation>
    </message>
    <message>
        <source>Details</source>
        <translation>تفصیل</translation>
    </message>
    <message>
        <source>Latency through each profile (ms)</source>
        <translation>ہر پروفائل کے ذریعے تاخیر (ملی سیکنڈ)</translation>
    </message>
    <message>
        <source>Loading…</source>
        <translation>لوڈ ہو رہا ہے…</translation>
    </message>
    <message>
        <source>All days</source>
        <translation>تمام دن</translation>
    </message>
    <message>
        <source>The history could not be read: %1</source>
        <translation>ریکارڈ پڑھا نہیں جا سکا: %1</translation>
    </message>
    <message>
        <source>%1 events</source>
        <translation>%1 واقعات</translation>
    </message>
    <message>
        <source>%1 → %2: %3</source>
        <translation>%1 سے %2 پر: %3</translation>
    </message>
    <message>
        <source>(offline for %1 s)</source>
        <translation>(%1 سیکنڈ آف لائن)</translation>
    </message>
    <message>
        <source>verified in %1 s</source>
        <translation>%1 سیکنڈ میں تصدیق ہوئی</translation>
    </message>
    <message>
        <source>switch to %1</source>
        <translation>%1 پر منتقلی</translation>
    </message>
    <message>
        <source>paused automatic switching</source>
        <translation>خودکار تبدیلی روک دی</translation>
    </message>
    <message>
        <source>resumed automatic switching</source>
        <translation>خودکار تبدیلی دوبارہ شروع کی</translation>
    </message>
    <message>
        <source>%1 switches in a short time; holding still</source>
        <translation>کم وقت میں %1 تبدیلیاں؛ اب رکا ہوا ہے</translation>
    </message>
    <message>
        <source>asleep for %1 s</source>
        <translation>%1 سیکنڈ نیند میں</translation>
    </message>
    <message>
        <source>ms</source>
        <translation>ملی سیکنڈ</translation>
    </message>
</context>
<context>
    <name>JsonParamsEditor</name>
    <message>
        <source>Parameters (JSON object):</source>
        <translation>پیرامیٹرز (JSON آبجیکٹ):</translation>
    </message>
    <message>
        <source>line %1, column %2: %3</source>
        <translation>سطر %1، کالم %2: %3</translation>
    </message>
    <message>
        <source>must be a JSON object: { &quot;key&quot;: value, … }</source>
        <translation>JSON آبجیکٹ ہونا چاہیے: { &quot;key&quot;: value, … }</translation>
    </message>
</context>
<context>
    <name>ProfileEditor</name>
    <message>
        <source>Name</source>
        <translation>نام</translation>
    </message>
    <message>
        <source>Backend</source>
        <translation>بیک اینڈ</translation>
    </message>
    <message>
        <source>Automatic (from the kind of VPN)</source>
        <translation>خودکار (VPN کی قسم سے)</translation>
    </message>
    <message>
        <source>Plain VPN</source>
        <translation>سادہ VPN</translation>
    </message>
    <message>
        <source>Obfuscated (disguised)</source>
        <translation>بھیس بدلا ہوا</translation>
    </message>
    <message>
        <source>Tor</source>
        <translation>ٹور</translation>
    </message>
    <message>
        <source>Registered VPN</source>
        <translation>رجسٹرڈ VPN</translation>
    </message>
    <message>
        <source>Which kind of way out this is decides when it is tried after a block. vpnswitch tells plain, obfuscated and Tor apart by itself. Choose “Registered VPN” for a VPN registered with the authorities (for example with the PTA in Pakistan): it survives a crackdown but is not private, and only you can know it is registered.</source>
        <translation>یہ کس قسم کا راستہ ہے، اس سے طے ہوتا ہے کہ رکاوٹ کے بعد اسے کب آزمایا جائے۔ vpnswitch سادہ، بھیس بدلے اور ٹور کو خود پہچان لیتا ہے۔ حکام کے پاس رجسٹرڈ VPN (مثلاً پاکستان میں پی ٹی اے کے پاس) کے لیے “رجسٹرڈ VPN” چنیں: یہ سختی کے دوران بھی چلتا ہے مگر نجی نہیں، اور صرف آپ جانتے ہیں کہ یہ رجسٹرڈ ہے۔</translation>
    </message>
    <message>
        <source>Kind of way out</source>
        <translation>راستے کی قسم</translation>
    </message>
    <message>
        <source>Advanced: edit the parameters as JSON</source>
        <translation>ماہرانہ: ترتیبات کو JSON میں بدلیں</translation>
    </message>
    <message>
        <source>Secrets (kept in your system keyring, never in the settings file)</source>
        <translation>راز (آپ کے سسٹم کی کی رِنگ میں رکھے جاتے ہیں، سیٹنگز کی فائل میں کبھی نہیں)</translation>
    </message>
    <message>
        <source>Will be saved to the keyring when you press Save.</source>
        <translation>”محفوظ کریں“ دبانے پر کی رِنگ میں محفوظ ہو جائے گا۔</translation>
    </message>
    <message>
        <source>Stored in the keyring. Type a new one to replace it.</source>
        <translation>کی رِنگ میں محفوظ ہے۔ بدلنے کے لیے نیا لکھیں۔</translation>
    </message>
    <message>
        <source>Not stored yet.</source>
        <translation>ابھی محفوظ نہیں۔</translation>
    </message>
    <message>
        <source>The keyring cannot be used: %1</source>
        <translation>کی رِنگ استعمال نہیں ہو سکتی: %1</translation>
    </message>
    <message>
        <source>Checking the keyring…</source>
        <translation>کی رِنگ دیکھی جا رہی ہے…</translation>
    </message>
</context>
<context>
    <name>ProfileState</name>
    <message>
        <source>active</source>
        <translation>فعال</translation>
    </message>
    <message>
        <source>connecting</source>
        <translation>جڑ رہا ہے</translation>
    </message>
    <message>
        <source>checking</source>
        <translation>جانچ جاری ہے</translation>
    </message>
    <message>
        <source>disconnecting</source>
        <translation>منقطع ہو رہا ہے</translation>
    </message>
    <message>
        <source>standby</source>
        <translation>تیار</translation>
    </message>
    <message>
        <source>resting after a failure</source>
        <translation>ناکامی کے بعد آرام</translation>
    </message>
    <message>
        <source>needs attention</source>
        <translation>توجہ درکار</translation>
    </message>
    <message>
        <source>disabled</source>
        <translation>غیر فعال</translation>
    </message>
</context>
<context>
    <name>ProfilesPage</name>
    <message>
        <source>Name</source>
        <translation>نام</translation>
    </message>
    <message>
        <source>must not be empty</source>
        <translation>خالی نہیں ہونا چاہیے</translation>
    </message>
    <message>
        <source>must be at most 64 characters</source>
        <translation>زیادہ سے زیادہ 64 حروف کا ہونا چاہیے</translation>
    </message>
    <message>
        <source>is already used by another profile</source>
        <translation>کسی اور پروفائل کا نام پہلے سے یہی ہے</translation>
    </message>
    <message>
        <source>%1 is not available in this version</source>
        <translation>%1 اس ورژن میں دستیاب نہیں</translation>
    </message>
    <message>
        <source>Backend</source>
        <translation>بیک اینڈ</translation>
    </message>
    <message>
        <source>Parameters</source>
        <translation>پیرامیٹرز</translation>
    </message>
    <message>
        <source>Tried from the top down. Drag to reorder; untick to skip a profile.</source>
        <translation>اوپر سے نیچے کی ترتیب میں آزمائی جاتی ہیں۔ ترتیب بدلنے کے لیے گھسیٹیں؛ کسی پروفائل کو چھوڑنے کے لیے نشان ہٹا دیں۔</translation>
    </message>
    <message>
        <source>Add</source>
        <translation>شامل کریں</translation>
    </message>
    <message>
        <source>Remove</source>
        <translation>ہٹائیں</translation>
    </message>
    <message>
        <source>Up</source>
        <translation>اوپر</translation>
    </message>
    <message>
        <source>Down</source>
        <translation>نیچے</translation>
    </message>
    <message>
        <source>Add a profile, or pick one from the list to edit it.</source>
        <translation>پروفائل شامل کریں، یا ترمیم کے لیے فہرست میں سے ایک چنیں۔</translation>
    </message>
    <message>
        <source>Profile “%1”, %2: %3</source>
        <translation>پروفائل “%1”، %2: %3</translation>
    </message>
    <message>
        <source>Import a WireGuard or OpenVPN file into NetworkManager…</source>
        <translation>WireGuard یا OpenVPN فائل کو NetworkManager میں درآمد کریں…</translation>
    </message>
    <message>
        <source>Import a WireGuard or OpenVPN file</source>
        <translation>WireGuard یا OpenVPN فائل درآمد کریں</translation>
    </message>
    <message>
        <source>WireGuard or OpenVPN files (%1)</source>
        <translation>WireGuard یا OpenVPN فائلیں (%1)</translation>
    </message>
    <message>
        <source>Importing %1 into NetworkManager…</source>
        <translation>%1 کو NetworkManager میں درآمد کیا جا رہا ہے…</translation>
    </message>
    <message>
        <source>“%1” was added to NetworkManager. Press Save to use it for failover.</source>
        <translation>“%1” کو NetworkManager میں شامل کر دیا گیا۔ خرابی کی صورت میں اسے متبادل کے طور پر استعمال کرنے کے لیے ”محفوظ کریں“ دبائیں۔</translation>
    </message>
    <message>
        <source>%1 could not be imported: %2</source>
        <translation>%1 درآمد نہیں ہو سکی: %2</translation>
    </message>
</context>
<context>
    <name>Role</name>
    <message>
        <source>canary (any site that should always work)</source>
        <translation>کینری (کوئی بھی سائٹ جو ہمیشہ کھلنی چاہیے)</translation>
    </message>
    <message>
        <source>must reach (a site you need)</source>
        <translation>ضروری (وہ سائٹ جو آپ کو چاہیے)</translation>
    </message>
</context>
<context>
    <name>Secret</name>
    <message>
        <source>Password or token</source>
        <translation>پاس ورڈ یا ٹوکن</translation>
    </message>
    <message>
        <source>Password</source>
        <translation>پاس ورڈ</translation>
    </message>
    <message>
        <source>Token</source>
        <translation>ٹوکن</translation>
    </message>
</context>
<context>
    <name>SettingsWindow</name>
    <message>
        <source>vpnswitch settings</source>
        <translation>vpnswitch کی سیٹنگز</translation>
    </message>
    <message>
        <source>Profiles</source>
        <translation>پروفائلز</translation>
    </message>
    <message>
        <source>Detected apps</source>
        <translation>ملنے والی ایپس</translation>
    </message>
    <message>
        <source>Sites to check</source>
        <translation>جانچ کی سائٹس</translation>
    </message>
    <message>
        <source>Timings</source>
        <translation>اوقات</translation>
    </message>
    <message>
        <source>General</source>
        <translation>عمومی</translation>
    </message>
    <message>
        <source>Undo changes</source>
        <translation>تبدیلیاں واپس لیں</translation>
    </message>
    <message>
        <source>Save</source>
        <translation>محفوظ کریں</translation>
    </message>
    <message>
        <source>Saving…</source>
        <translation>محفوظ ہو رہا ہے…</translation>
    </message>
    <message>
        <source>(and %1 more)</source>
        <translation>(اور %1 مزید)</translation>
    </message>
    <message>
        <source>Unsaved changes.</source>
        <translation>غیر محفوظ تبدیلیاں۔</translation>
    </message>
    <message>
        <source>Not saved. Please fix:</source>
        <translation>محفوظ نہیں ہوا۔ براہ کرم درست کریں:</translation>
    </message>
    <message>
        <source>Not saved: %1</source>
        <translation>محفوظ نہیں ہوا: %1</translation>
    </message>
    <message>
        <source>Saved. The new settings are in use now.</source>
        <translation>محفوظ ہو گیا۔ نئی سیٹنگز اب استعمال ہو رہی ہیں۔</translation>
    </message>
    <message>
        <source>Your old settings file could not be read, so it was kept as %1.</source>
        <translation>آپ کی پرانی سیٹنگز کی فائل پڑھی نہیں جا سکی، اس لیے اسے %1 کے نام سے رکھ لیا گیا۔</translation>
    </message>
    <message>
        <source>Secrets were not saved: %1</source>
        <translation>راز محفوظ نہیں ہوئے: %1</translation>
    </message>
    <message>
        <source>Start at login could not be changed: %1</source>
        <translation>لاگ اِن پر آغاز تبدیل نہیں ہو سکا: %1</translation>
    </message>
    <message>
        <source>Unsaved changes</source>
        <translation>غیر محفوظ تبدیلیاں</translation>
    </message>
    <message>
        <source>Save your changes before closing?</source>
        <translation>بند کرنے سے پہلے تبدیلیاں محفوظ کریں؟</translation>
    </message>
    <message>
        <source>Discard</source>
        <translation>چھوڑ دیں</translation>
    </message>
    <message>
        <source>Cancel</source>
        <translation>منسوخ کریں</translation>
    </message>
</context>
<context>
    <name>SpecEditor</name>
    <message>
        <source>More options</source>
        <translation>مزید اختیارات</translation>
    </message>
    <message>
        <source>e.g. %1</source>
        <translation>مثلاً %1</translation>
    </message>
    <message>
        <source>(not set)</source>
        <translation>(طے نہیں)</translation>
    </message>
    <message>
        <source>one per line, e.g. %1</source>
        <translation>ہر سطر میں ایک، مثلاً %1</translation>
    </message>
    <message>
        <source>Get bridges</source>
        <translation>برج حاصل کریں</translation>
    </message>
    <message>
        <source>Not in this version yet: get bridge lines from bridges.torproject.org (or by e-mail from bridges@torproject.org) and paste them here.</source>
        <translation>اس ورژن میں ابھی نہیں: برج کی سطریں bridges.torproject.org سے (یا bridges@torproject.org سے ای میل کے ذریعے) لے کر یہاں چسپاں کریں۔</translation>
    </message>
    <message>
        <source>Choose…</source>
        <translation>منتخب کریں…</translation>
    </message>
    <message>
        <source>Checking %1…</source>
        <translation>%1 جانچا جا رہا ہے…</translation>
    </message>
    <message>
        <source>%1, line %2</source>
        <translation>%1، سطر %2</translation>
    </message>
    <message>
        <source>has an unmatched quote</source>
        <translation>میں ایک واوین کا جوڑا ادھورا ہے</translation>
    </message>
    <message>
        <source>must be a whole number</source>
        <translation>پورا عدد ہونا چاہیے</translation>
    </message>
</context>
<context>
    <name>StatusWindow</name>
    <message>
        <source>vpnswitch status</source>
        <translation>vpnswitch کی حالت</translation>
    </message>
    <message>
        <source>latency (ms)</source>
        <translation>تاخیر (ملی سیکنڈ)</translation>
    </message>
    <message>
        <source>Ways out, in the order they are tried</source>
        <translation>راستے، اسی ترتیب میں جس میں آزمائے جاتے ہیں</translation>
    </message>
    <message>
        <source>Profile</source>
        <translation>پروفائل</translation>
    </message>
    <message>
        <source>State</source>
        <translation>حالت</translation>
    </message>
    <message>
        <source>Why / what to do</source>
        <translation>کیوں / کیا کریں</translation>
    </message>
    <message>
        <source>Switch now</source>
        <translation>ابھی بدلیں</translation>
    </message>
    <message>
        <source>Move to the selected profile, or to the next one that is ready.</source>
        <translation>منتخب پروفائل پر جائیں، یا اگلے تیار پروفائل پر۔</translation>
    </message>
    <message>
        <source>Way out: %1 (%2)</source>
        <translation>راستہ: %1 (%2)</translation>
    </message>
    <message>
        <source>Health: %1</source>
        <translation>حالت: %1</translation>
    </message>
    <message>
        <source>Latency: %1 ms</source>
        <translation>تاخیر: %1 ملی سیکنڈ</translation>
    </message>
    <message>
        <source>No way out is in use.</source>
        <translation>کوئی راستہ استعمال میں نہیں۔</translation>
    </message>
    <message>
        <source>No switch yet.</source>
        <translation>ابھی تک کوئی تبدیلی نہیں ہوئی۔</translation>
    </message>
    <message>
        <source>Last switch at %1: %2 → %3.</source>
        <translation>آخری تبدیلی %1 پر: %2 ← %3۔</translation>
    </message>
    <message>
        <source>Why: %1.</source>
        <translation>وجہ: %1۔</translation>
    </message>
    <message>
        <source>Outage: %1.</source>
        <translation>رابطہ ٹوٹا رہا: %1۔</translation>
    </message>
    <message>
        <source>Resume automatic switching</source>
        <translation>خودکار تبدیلی دوبارہ شروع کریں</translation>
    </message>
    <message>
        <source>Pause automatic switching</source>
        <translation>خودکار تبدیلی روکیں</translation>
    </message>
    <message>
        <source>%1 s</source>
        <translation>%1 سیکنڈ</translation>
    </message>
    <message>
        <source>%1 min %2 s</source>
        <translation>%1 منٹ %2 سیکنڈ</translation>
    </message>
    <message>
        <source>%1 h %2 min</source>
        <translation>%1 گھنٹے %2 منٹ</translation>
    </message>
    <message>
        <source>in use</source>
        <translation>استعمال میں</translation>
    </message>
    <message>
        <source>resting after a failure</source>
        <translation>ناکامی کے بعد آرام میں</translation>
    </message>
    <message>
        <source>resting after a failure, %1 left</source>
        <translation>ناکامی کے بعد آرام میں، %1 باقی</translation>
    </message>
    <message>
        <source>needs attention</source>
        <translation>توجہ چاہیے</translation>
    </message>
    <message>
        <source>standby, ready in the background</source>
        <translation>تیار حالت میں، پس منظر میں تیار</translation>
    </message>
    <message>
        <source>standby, starting in the background</source>
        <translation>تیار حالت میں، پس منظر میں شروع ہو رہا ہے</translation>
    </message>
    <message>
        <source>standby, not ready</source>
        <translation>تیار حالت میں، ابھی تیار نہیں</translation>
    </message>
    <message>
        <source>ready</source>
        <translation>تیار</translation>
    </message>
</context>
<context>
    <name>TargetsPage</name>
    <message>
        <source>Sites checked through the active VPN. Use sites from different companies as canaries, plus the sites you actually need (for example x.com).</source>
        <translation>وہ سائٹس جو فعال وی پی این کے ذریعے جانچی جاتی ہیں۔ کینری کے طور پر مختلف کمپنیوں کی سائٹس رکھیں، اور وہ سائٹس بھی جو آپ کو واقعی چاہییں (مثلاً x.com)۔</translation>
    </message>
    <message>
        <source>Address</source>
        <translation>پتا</translation>
    </message>
    <message>
        <source>Role</source>
        <translation>کردار</translation>
    </message>
    <message>
        <source>Good answers</source>
        <translation>درست جوابات</translation>
    </message>
    <message>
        <source>Add site</source>
        <translation>سائٹ شامل کریں</translation>
    </message>
    <message>
        <source>Remove</source>
        <translation>ہٹائیں</translation>
    </message>
    <message>
        <source>Test now</source>
        <translation>ابھی جانچیں</translation>
    </message>
    <message>
        <source>Results</source>
        <translation>نتائج</translation>
    </message>
    <message>
        <source>Press “Test now” to check the saved sites through the active VPN.</source>
        <translation>محفوظ سائٹس کو فعال وی پی این کے ذریعے جانچنے کے لیے ”ابھی جانچیں“ دبائیں۔</translation>
    </message>
    <message>
        <source>Site</source>
        <translation>سائٹ</translation>
    </message>
    <message>
        <source>Result</source>
        <translation>نتیجہ</translation>
    </message>
    <message>
        <source>Time</source>
        <translation>وقت</translation>
    </message>
    <message>
        <source>Profile</source>
        <translation>پروفائل</translation>
    </message>
    <message>
        <source>State</source>
        <translation>حالت</translation>
    </message>
    <message>
        <source>Last latency</source>
        <translation>آخری تاخیر</translation>
    </message>
    <message>
        <source>Site %1: %2</source>
        <translation>سائٹ %1: %2</translation>
    </message>
    <message>
        <source>At least one site is needed (two or more from different companies is better).</source>
        <translation>کم از کم ایک سائٹ ضروری ہے (مختلف کمپنیوں کی دو یا زیادہ بہتر ہیں)۔</translation>
    </message>
    <message>
        <source>Testing…</source>
        <translation>جانچ جاری ہے…</translation>
    </message>
    <message>
        <source>Nothing to test: no profile is connected right now.</source>
        <translation>جانچنے کو کچھ نہیں: اس وقت کوئی پروفائل جڑی ہوئی نہیں۔</translation>
    </message>
    <message>
        <source>Tested through %1: %2</source>
        <translation>%1 کے ذریعے جانچا گیا: %2</translation>
    </message>
    <message>
        <source>answered (%1)</source>
        <translation>جواب ملا (%1)</translation>
    </message>
    <message>
        <source>failed: %1</source>
        <translation>ناکام: %1</translation>
    </message>
    <message>
        <source>%1 ms</source>
        <translation>%1 ملی سیکنڈ</translation>
    </message>
    <message>
        <source>The test could not run: %1</source>
        <translation>جانچ نہیں ہو سکی: %1</translation>
    </message>
</context>
<context>
    <name>Timing</name>
    <message>
        <source>Shortest pause between checks</source>
        <translation>جانچ کے درمیان کم سے کم وقفہ</translation>
    </message>
    <message>
        <source>Each pause is picked at random between the shortest and the longest, so the checks have no rhythm a firewall could spot.</source>
        <translation>ہر وقفہ کم سے کم اور زیادہ سے زیادہ کے درمیان اتفاقیہ چنا جاتا ہے، تاکہ جانچ کا کوئی ایسا تال نہ ہو جسے فائر وال پہچان سکے۔</translation>
    </message>
    <message>
        <source>Longest pause between checks</source>
        <translation>جانچ کے درمیان زیادہ سے زیادہ وقفہ</translation>
    </message>
    <message>
        <source>Wait for a site</source>
        <translation>سائٹ کا انتظار</translation>
    </message>
    <message>
        <source>The longest one check waits for a site to answer. Once a VPN&apos;s usual answer time is known, checks wait half as long again as its slowest recent answer, and longer after a miss.</source>
        <translation>ایک جانچ کسی سائٹ کے جواب کا زیادہ سے زیادہ کتنی دیر انتظار کرے۔ جب کسی VPN کے جواب کا معمول کا وقت معلوم ہو جائے تو جانچ اس کے حالیہ سب سے سست جواب سے ڈیڑھ گنا انتظار کرتی ہے، اور جواب نہ ملنے کے بعد اس سے زیادہ۔</translation>
    </message>
    <message>
        <source>Confirm after</source>
        <translation>تصدیق سے پہلے وقفہ</translation>
    </message>
    <message>
        <source>Pause before re-checking when something looks wrong.</source>
        <translation>کچھ غلط لگے تو دوبارہ جانچنے سے پہلے کا وقفہ۔</translation>
    </message>
    <message>
        <source>Failed rounds before switching</source>
        <translation>تبدیلی سے پہلے ناکام راؤنڈ</translation>
    </message>
    <message>
        <source>A VPN is given up only after this many failed rounds.</source>
        <translation>کسی وی پی این کو اتنے ناکام راؤنڈز کے بعد ہی چھوڑا جاتا ہے۔</translation>
    </message>
    <message>
        <source>Rounds before a blocked site counts</source>
        <translation>بند سائٹ کو شمار کرنے سے پہلے راؤنڈ</translation>
    </message>
    <message>
        <source>Rounds in which only a site you need fails before another VPN is tried.</source>
        <translation>اتنے راؤنڈز میں صرف آپ کی ضرورت کی سائٹ ناکام ہو تو دوسرا وی پی این آزمایا جاتا ہے۔</translation>
    </message>
    <message>
        <source>Stalled traffic after</source>
        <translation>رکی ہوئی ٹریفک کی حد</translation>
    </message>
    <message>
        <source>Shortest wait for a site</source>
        <translation>سائٹ کا کم سے کم انتظار</translation>
    </message>
    <message>
        <source>Even on a very fast VPN, a check waits at least this long.</source>
        <translation>بہت تیز VPN پر بھی جانچ کم از کم اتنی دیر انتظار کرتی ہے۔</translation>
    </message>
    <message>
        <source>Failed rounds before a ready standby</source>
        <translation>تیار متبادل سے پہلے ناکام دور</translation>
    </message>
    <message>
        <source>When the next choice is a standby already running and checked in the background, switching to it takes a moment, so fewer failed rounds are needed.</source>
        <translation>جب اگلا انتخاب ایسا متبادل ہو جو پس منظر میں پہلے سے چل رہا ہو اور جانچا جا چکا ہو تو اس پر جانا ایک لمحے کا کام ہے، اس لیے کم ناکام دور کافی ہیں۔</translation>
    </message>
    <message>
        <source>Data goes out but nothing comes back for this long (less on a fast VPN): check at once.</source>
        <translation>ڈیٹا جا رہا ہو مگر اتنی دیر (تیز VPN پر اس سے کم) کچھ واپس نہ آئے تو فوراً جانچیں۔</translation>
    </message>
    <message>
        <source>Watch the VPN every</source>
        <translation>وی پی این پر نظر کا وقفہ</translation>
    </message>
    <message>
        <source>How often the VPN&apos;s process and network interface are looked at (cheap).</source>
        <translation>وی پی این کا پروسیس اور نیٹ ورک انٹرفیس کتنی بار دیکھا جائے (ہلکا کام)۔</translation>
    </message>
    <message>
        <source>Watch the network every</source>
        <translation>نیٹ ورک پر نظر کا وقفہ</translation>
    </message>
    <message>
        <source>How often Wi-Fi or cable is checked, so an outage there is not blamed on the VPN.</source>
        <translation>وائی فائی یا کیبل کتنی بار جانچی جائے، تاکہ وہاں کی خرابی کا الزام وی پی این پر نہ آئے۔</translation>
    </message>
    <message>
        <source>Give up connecting after</source>
        <translation>جڑنے کی کوشش کی حد</translation>
    </message>
    <message>
        <source>How long a VPN may take to connect.</source>
        <translation>کسی وی پی این کو جڑنے میں کتنا وقت لگ سکتا ہے۔</translation>
    </message>
    <message>
        <source>Give up disconnecting after</source>
        <translation>منقطع ہونے کی حد</translation>
    </message>
    <message>
        <source>How long a VPN may take to disconnect.</source>
        <translation>کسی وی پی این کو منقطع ہونے میں کتنا وقت لگ سکتا ہے۔</translation>
    </message>
    <message>
        <source>Give up verifying after</source>
        <translation>تصدیق کی حد</translation>
    </message>
    <message>
        <source>How long a new connection has to prove it carries traffic.</source>
        <translation>نئے کنکشن کو یہ ثابت کرنے کے لیے کتنا وقت ملے کہ وہ ٹریفک لے جا رہا ہے۔</translation>
    </message>
    <message>
        <source>Grace after sleep</source>
        <translation>نیند کے بعد مہلت</translation>
    </message>
    <message>
        <source>After the computer wakes, wait this long before judging.</source>
        <translation>کمپیوٹر جاگنے کے بعد فیصلہ کرنے سے پہلے اتنا انتظار کریں۔</translation>
    </message>
    <message>
        <source>Rest a failed VPN for</source>
        <translation>ناکام وی پی این کا آرام</translation>
    </message>
    <message>
        <source>A VPN that failed is not tried again for this long; the time doubles on each failure.</source>
        <translation>ناکام ہونے والا وی پی این اتنی دیر دوبارہ نہیں آزمایا جاتا؛ ہر ناکامی پر یہ وقت دگنا ہو جاتا ہے۔</translation>
    </message>
    <message>
        <source>Longest rest</source>
        <translation>سب سے لمبا آرام</translation>
    </message>
    <message>
        <source>The doubling stops here.</source>
        <translation>دگنا ہونا یہاں رک جاتا ہے۔</translation>
    </message>
    <message>
        <source>Return to a preferred VPN at most every</source>
        <translation>پسندیدہ وی پی این پر واپسی کا کم سے کم وقفہ</translation>
    </message>
    <message>
        <source>How often vpnswitch may move back up your list.</source>
        <translation>vpnswitch کتنی بار آپ کی فہرست میں اوپر واپس جا سکتا ہے۔</translation>
    </message>
    <message>
        <source>Do not move back while downloading faster than</source>
        <translation>اس رفتار سے تیز ڈاؤن لوڈ کے دوران واپس نہ جائیں</translation>
    </message>
    <message>
        <source>A running download is never interrupted to move back.</source>
        <translation>واپس جانے کے لیے جاری ڈاؤن لوڈ کبھی نہیں روکا جاتا۔</translation>
    </message>
    <message>
        <source>Stop switching after</source>
        <translation>اتنی تبدیلیوں کے بعد رک جائیں</translation>
    </message>
    <message>
        <source>This many switches in the window below means the network itself is unstable: vpnswitch holds still.</source>
        <translation>نیچے دیے گئے وقت میں اتنی تبدیلیوں کا مطلب ہے کہ نیٹ ورک خود غیر مستحکم ہے: vpnswitch رک جاتا ہے۔</translation>
    </message>
    <message>
        <source>…switches within</source>
        <translation>…اتنے وقت کے اندر</translation>
    </message>
    <message>
        <source>The window for the rule above.</source>
        <translation>اوپر والے اصول کا وقت۔</translation>
    </message>
</context>
<context>
    <name>TimingsPage</name>
    <message>
        <source>Behaviour</source>
        <translation>رویہ</translation>
    </message>
    <message>
        <source>Switch automatically when the VPN stops working</source>
        <translation>وی پی این کام چھوڑ دے تو خود بخود بدلیں</translation>
    </message>
    <message>
        <source>Move back to a higher profile once it works again</source>
        <translation>اوپر والی پروفائل دوبارہ چلنے لگے تو اس پر واپس جائیں</translation>
    </message>
    <message>
        <source>Remember which profile worked on each network</source>
        <translation>یاد رکھیں کہ ہر نیٹ ورک پر کون سی پروفائل چلی</translation>
    </message>
    <message>
        <source>speed (fast VPNs first after a block)</source>
        <translation>رفتار (بندش کے بعد پہلے تیز وی پی این)</translation>
    </message>
    <message>
        <source>privacy (Tor and obfuscated profiles first after a block)</source>
        <translation>رازداری (بندش کے بعد پہلے Tor اور چھپی ہوئی پروفائلز)</translation>
    </message>
    <message>
        <source>Prefer</source>
        <translation>ترجیح</translation>
    </message>
    <message>
        <source>Health checks</source>
        <translation>صحت کی جانچ</translation>
    </message>
    <message>
        <source>Watching</source>
        <translation>نگرانی</translation>
    </message>
    <message>
        <source>Connecting and switching</source>
        <translation>جڑنا اور تبدیلی</translation>
    </message>
    <message>
        <source>times</source>
        <translation>بار</translation>
    </message>
    <message>
        <source>rounds</source>
        <translation>راؤنڈ</translation>
    </message>
    <message>
        <source>kB/s</source>
        <translation>کلو بائٹ/سیکنڈ</translation>
    </message>
    <message>
        <source>s</source>
        <translation>سیکنڈ</translation>
    </message>
    <message>
        <source>From %1 to %2</source>
        <translation>%1 سے %2 تک</translation>
    </message>
    <message>
        <source>“%1” must not be more than “%2”.</source>
        <translation>“%1”، “%2” سے زیادہ نہیں ہونا چاہیے۔</translation>
    </message>
</context>
<context>
    <name>Tray</name>
    <message>
        <source>Starting…</source>
        <translation>شروع ہو رہا ہے…</translation>
    </message>
    <message>
        <source>Connected via %1: %2</source>
        <translation>%1 کے ذریعے جڑا ہوا: %2</translation>
    </message>
    <message>
        <source>Switching to %1…</source>
        <translation>%1 پر منتقل ہو رہا ہے…</translation>
    </message>
    <message>
        <source>Connecting to %1…</source>
        <translation>%1 سے جڑ رہا ہے…</translation>
    </message>
    <message>
        <source>Checking %1…</source>
        <translation>%1 کی جانچ جاری ہے…</translation>
    </message>
    <message>
        <source>Disconnecting %1…</source>
        <translation>%1 منقطع ہو رہا ہے…</translation>
    </message>
    <message>
        <source>Offline: the network itself is down</source>
        <translation>آف لائن: نیٹ ورک خود بند ہے</translation>
    </message>
    <message>
        <source>No VPN works right now; trying again</source>
        <translation>اس وقت کوئی وی پی این کام نہیں کر رہا؛ دوبارہ کوشش جاری ہے</translation>
    </message>
    <message>
        <source>%1 needs attention</source>
        <translation>%1 پر توجہ درکار ہے</translation>
    </message>
    <message>
        <source>Paused, staying on %1</source>
        <translation>رکا ہوا، %1 پر قائم</translation>
    </message>
    <message>
        <source>Paused</source>
        <translation>رکا ہوا</translation>
    </message>
    <message>
        <source>No profiles yet</source>
        <translation>ابھی کوئی پروفائل نہیں</translation>
    </message>
    <message>
        <source>Not connected</source>
        <translation>جڑا ہوا نہیں</translation>
    </message>
    <message>
        <source>(automatic switching paused)</source>
        <translation>(خودکار تبدیلی رکی ہوئی ہے)</translation>
    </message>
    <message>
        <source>(holding: switched too often)</source>
        <translation>(رکا ہوا: بہت بار تبدیلی ہوئی)</translation>
    </message>
    <message>
        <source>Last check: %1</source>
        <translation>آخری جانچ: %1</translation>
    </message>
    <message>
        <source>Stopping…</source>
        <translation>بند ہو رہا ہے…</translation>
    </message>
    <message>
        <source>No profiles yet: add one in Settings</source>
        <translation>ابھی کوئی پروفائل نہیں: سیٹنگز میں شامل کریں</translation>
    </message>
    <message>
        <source>Resume automatic switching</source>
        <translation>خودکار تبدیلی دوبارہ شروع کریں</translation>
    </message>
    <message>
        <source>Pause automatic switching</source>
        <translation>خودکار تبدیلی روکیں</translation>
    </message>
    <message>
        <source>Check now</source>
        <translation>ابھی جانچیں</translation>
    </message>
    <message>
        <source>Status…</source>
        <translation>حالت…</translation>
    </message>
    <message>
        <source>Settings…</source>
        <translation>سیٹنگز…</translation>
    </message>
    <message>
        <source>History…</source>
        <translation>ریکارڈ…</translation>
    </message>
    <message>
        <source>Quit</source>
        <translation>بند کریں</translation>
    </message>
</context>
<context>
    <name>Verdict</name>
    <message>
        <source>not checked yet</source>
        <translation>ابھی جانچا نہیں گیا</translation>
    </message>
    <message>
        <source>working</source>
        <translation>کام کر رہا ہے</translation>
    </message>
    <message>
        <source>partly working</source>
        <translation>جزوی طور پر کام کر رہا ہے</translation>
    </message>
    <message>
        <source>failing</source>
        <translation>ناکام ہو رہا ہے</translation>
    </message>
    <message>
        <source>down</source>
        <translation>بند</translation>
    </message>
    <message>
        <source>leaking outside the VPN</source>
        <translation>وی پی این سے باہر لیک ہو رہا ہے</translation>
    </message>
    <message>
        <source>a site is blocked</source>
        <translation>ایک سائٹ بند ہے</translation>
    </message>
    <message>
        <source>working, but this network&apos;s DNS lies about a site</source>
        <translation>کام کر رہا ہے، لیکن اس نیٹ ورک کا DNS ایک سائٹ کے بارے میں غلط جواب دیتا ہے</translation>
    </message>
    <message>
        <source>working, but this network&apos;s DNS is blocked</source>
        <translation>کام کر رہا ہے، لیکن اس نیٹ ورک کا DNS بند ہے</translation>
    </message>
</context>
<context>
    <name>WarmState</name>
    <message>
        <source>starting in the background</source>
        <translation>پس منظر میں شروع ہو رہا ہے</translation>
    </message>
    <message>
        <source>ready in the background</source>
        <translation>پس منظر میں تیار</translation>
    </message>
    <message>
        <source>not ready</source>
        <translation>تیار نہیں</translation>
    </message>
</context>
<context>
    <name>WelcomeWindow</name>
    <message>
        <source>Welcome to vpnswitch</source>
        <translation>vpnswitch میں خوش آمدید</translation>
    </message>
    <message>
        <source>vpnswitch keeps you online by moving to another way out when one stops working. This is what it found on this computer, in the order it suggests: the fastest first, disguised ones next, Tor last. Untick what you do not want, drag to change the order. Nothing connects until you press Start.</source>
        <translation>جب ایک راستہ کام کرنا چھوڑ دے تو vpnswitch دوسرے راستے پر جا کر آپ کو آن لائن رکھتا ہے۔ اس کمپیوٹر پر یہ ملا، اس ترتیب میں جو یہ تجویز کرتا ہے: سب سے تیز پہلے، بھیس بدلے ہوئے اس کے بعد، ٹور آخر میں۔ جو نہیں چاہیے اس کا نشان ہٹا دیں، ترتیب بدلنے کے لیے گھسیٹیں۔ جب تک آپ “شروع کریں” نہ دبائیں، کچھ نہیں جڑے گا۔</translation>
    </message>
    <message>
        <source>No VPN app, configuration or Tor was found. Import a WireGuard or OpenVPN file, or add a profile in Settings.</source>
        <translation>کوئی VPN ایپ، کنفیگریشن یا ٹور نہیں ملا۔ WireGuard یا OpenVPN کی فائل درآمد کریں، یا سیٹنگز میں پروفائل شامل کریں۔</translation>
    </message>
    <message>
        <source>Import a WireGuard or OpenVPN file…</source>
        <translation>WireGuard یا OpenVPN کی فائل درآمد کریں…</translation>
    </message>
    <message>
        <source>Settings…</source>
        <translation>سیٹنگز…</translation>
    </message>
    <message>
        <source>Start</source>
        <translation>شروع کریں</translation>
    </message>
    <message>
        <source>Sign in to %1 in its own app first, if you have not.</source>
        <translation>اگر ابھی نہیں کیا تو پہلے %1 کی اپنی ایپ میں سائن ان کریں۔</translation>
    </message>
    <message>
        <source>Needs a configuration file: import one.</source>
        <translation>کنفیگریشن فائل چاہیے: ایک درآمد کریں۔</translation>
    </message>
    <message>
        <source>plain VPN, fastest</source>
        <translation>سادہ VPN، سب سے تیز</translation>
    </message>
    <message>
        <source>disguised, for when VPNs are blocked</source>
        <translation>بھیس بدلا ہوا، جب VPN بند ہوں</translation>
    </message>
    <message>
        <source>Tor, the last resort</source>
        <translation>ٹور، آخری سہارا</translation>
    </message>
    <message>
        <source>registered VPN</source>
        <translation>رجسٹرڈ VPN</translation>
    </message>
    <message>
        <source>Found: %1</source>
        <translation>ملا: %1</translation>
    </message>
    <message>
        <source>Import a WireGuard or OpenVPN file</source>
        <translation>WireGuard یا OpenVPN کی فائل درآمد کریں</translation>
    </message>
    <message>
        <source>%1 was added.</source>
        <translation>%1 شامل کر دیا گیا۔</translation>
    </message>
    <message>
        <source>Starting…</source>
        <translation>شروع ہو رہا ہے…</translation>
    </message>
    <message>
        <source>Could not save the settings: %1</source>
        <translation>سیٹنگز محفوظ نہ ہو سکیں: %1</translation>
    </message>
</context>
<context>
    <name>params</name>
    <message>
        <source>The app&apos;s program</source>
        <translation>ایپ کا پروگرام</translation>
    </message>
    <message>
        <source>Process names</source>
        <translation>پراسیس کے نام</translation>
    </message>
    <message>
        <source>The names its running processes have, when they differ from the program&apos;s.</source>
        <translation>اس کے چلتے پراسیسوں کے نام، جب وہ پروگرام کے نام سے مختلف ہوں۔</translation>
    </message>
    <message>
        <source>Also close its child processes</source>
        <translation>اس کے ذیلی پراسیس بھی بند کریں</translation>
    </message>
    <message>
        <source>Tunnel interface</source>
        <translation>ٹنل انٹرفیس</translation>
    </message>
    <message>
        <source>Its network adapter&apos;s name; or an adapter description, or a proxy.</source>
        <translation>اس کے نیٹ ورک اڈاپٹر کا نام؛ یا اڈاپٹر کی تفصیل، یا پراکسی۔</translation>
    </message>
    <message>
        <source>Adapter description (Windows)</source>
        <translation>اڈاپٹر کی تفصیل (ونڈوز)</translation>
    </message>
    <message>
        <source>Local proxy</source>
        <translation>مقامی پراکسی</translation>
    </message>
    <message>
        <source>The proxy it opens, or &quot;system&quot; for the system proxy it sets.</source>
        <translation>جو پراکسی یہ کھولتی ہے، یا سسٹم پراکسی کے لیے &quot;system&quot;۔</translation>
    </message>
    <message>
        <source>Seconds to wait for it to close</source>
        <translation>بند ہونے کا انتظار (سیکنڈ)</translation>
    </message>
    <message>
        <source>Transport</source>
        <translation>ٹرانسپورٹ</translation>
    </message>
    <message>
        <source>App</source>
        <translation>ایپ</translation>
    </message>
    <message>
        <source>Which app runs the core (for names and help only).</source>
        <translation>کون سی ایپ کور چلاتی ہے (صرف ناموں اور مدد کے لیے)۔</translation>
    </message>
    <message>
        <source>another app (sing-box or mihomo core)</source>
        <translation>کوئی اور ایپ (sing-box یا mihomo کور)</translation>
    </message>
    <message>
        <source>Controller address</source>
        <translation>کنٹرولر کا پتا</translation>
    </message>
    <message>
        <source>The app&apos;s external controller: http://127.0.0.1:PORT or unix:///path/to.sock.</source>
        <translation>ایپ کا بیرونی کنٹرولر: http://127.0.0.1:PORT یا unix:///path/to.sock۔</translation>
    </message>
    <message>
        <source>Controller secret</source>
        <translation>کنٹرولر کا خفیہ کوڈ</translation>
    </message>
    <message>
        <source>The app&apos;s controller secret, if it has one.</source>
        <translation>ایپ کے کنٹرولر کا خفیہ کوڈ، اگر ہو۔</translation>
    </message>
    <message>
        <source>Group</source>
        <translation>گروپ</translation>
    </message>
    <message>
        <source>A selector group (one where you pick the node yourself).</source>
        <translation>انتخابی گروپ (جس میں نوڈ آپ خود چنتے ہیں)۔</translation>
    </message>
    <message>
        <source>Node</source>
        <translation>نوڈ</translation>
    </message>
    <message>
        <source>The node in that group this profile uses.</source>
        <translation>اس گروپ کا وہ نوڈ جو یہ پروفائل استعمال کرتا ہے۔</translation>
    </message>
    <message>
        <source>The app&apos;s mixed or SOCKS port, through which vpnswitch checks the node.</source>
        <translation>ایپ کا mixed یا SOCKS پورٹ، جس کے ذریعے vpnswitch نوڈ کو جانچتا ہے۔</translation>
    </message>
    <message>
        <source>TUN interface</source>
        <translation>TUN انٹرفیس</translation>
    </message>
    <message>
        <source>Instead of a proxy: the app&apos;s TUN interface (the app must run in TUN mode).</source>
        <translation>پراکسی کی بجائے: ایپ کا TUN انٹرفیس (ایپ TUN موڈ میں چلنی چاہیے)۔</translation>
    </message>
    <message>
        <source>Connect command</source>
        <translation>جوڑنے کی کمانڈ</translation>
    </message>
    <message>
        <source>Disconnect command</source>
        <translation>منقطع کرنے کی کمانڈ</translation>
    </message>
    <message>
        <source>Required when the connect command returns once connected (one-shot mode).</source>
        <translation>ضروری ہے جب جوڑنے کی کمانڈ جڑتے ہی لوٹ آئے (ایک بار والا موڈ)۔</translation>
    </message>
    <message>
        <source>Status command</source>
        <translation>حالت کی کمانڈ</translation>
    </message>
    <message>
        <source>Exits 0 while connected (optional).</source>
        <translation>جڑے ہونے کے دوران 0 پر ختم ہوتی ہے (اختیاری)۔</translation>
    </message>
    <message>
        <source>The interface it creates; or give a local proxy instead.</source>
        <translation>جو انٹرفیس یہ بناتی ہے؛ یا اس کی بجائے مقامی پراکسی دیں۔</translation>
    </message>
    <message>
        <source>The proxy it opens; or give a tunnel interface instead.</source>
        <translation>جو پراکسی یہ کھولتی ہے؛ یا اس کی بجائے ٹنل انٹرفیس دیں۔</translation>
    </message>
    <message>
        <source>Mode</source>
        <translation>موڈ</translation>
    </message>
    <message>
        <source>Connect command returns</source>
        <translation>جوڑنے کی کمانڈ لوٹ آتی ہے</translation>
    </message>
    <message>
        <source>Connect command keeps running</source>
        <translation>جوڑنے کی کمانڈ چلتی رہتی ہے</translation>
    </message>
    <message>
        <source>Secret as environment variable</source>
        <translation>خفیہ قدر بطور ماحولیاتی متغیر</translation>
    </message>
    <message>
        <source>Secret</source>
        <translation>خفیہ قدر</translation>
    </message>
    <message>
        <source>Kept in your keyring; given to the commands in the variable named above.</source>
        <translation>آپ کے کی رنگ میں محفوظ؛ اوپر دیے گئے متغیر میں کمانڈز کو دی جاتی ہے۔</translation>
    </message>
    <message>
        <source>Location</source>
        <translation>مقام</translation>
    </message>
    <message>
        <source>A country, city or server as the app&apos;s own command line names it; empty: the app&apos;s choice.</source>
        <translation>ملک، شہر یا سرور، جیسے ایپ کی اپنی کمانڈ لائن اسے کہتی ہے؛ خالی: ایپ کی مرضی۔</translation>
    </message>
    <message>
        <source>Command-line program</source>
        <translation>کمانڈ لائن پروگرام</translation>
    </message>
    <message>
        <source>Program</source>
        <translation>پروگرام</translation>
    </message>
    <message>
        <source>Found in the usual places when empty.</source>
        <translation>خالی ہو تو عام جگہوں پر تلاش کیا جاتا ہے۔</translation>
    </message>
    <message>
        <source>Interface</source>
        <translation>انٹرفیس</translation>
    </message>
    <message>
        <source>The tunnel&apos;s interface, when it is not the usual.</source>
        <translation>ٹنل کا انٹرفیس، جب وہ معمول والا نہ ہو۔</translation>
    </message>
    <message>
        <source>Protocol</source>
        <translation>پروٹوکول</translation>
    </message>
    <message>
        <source>The protocol the app should use; empty: the app&apos;s choice.</source>
        <translation>وہ پروٹوکول جو ایپ استعمال کرے؛ خالی: ایپ کی مرضی۔</translation>
    </message>
    <message>
        <source>Obfuscation</source>
        <translation>بھیس</translation>
    </message>
    <message>
        <source>Disguise the tunnel where VPNs are blocked.</source>
        <translation>جہاں VPN بند ہوں وہاں ٹنل کا بھیس بدلیں۔</translation>
    </message>
    <message>
        <source>Data folder</source>
        <translation>ڈیٹا فولڈر</translation>
    </message>
    <message>
        <source>Where Lantern keeps its settings and PRO login; a private folder per profile when empty.</source>
        <translation>جہاں لینٹرن اپنی سیٹنگز اور PRO لاگ ان رکھتا ہے؛ خالی ہو تو ہر پروفائل کا اپنا نجی فولڈر۔</translation>
    </message>
    <message>
        <source>lantern-headless-client; found on PATH when empty.</source>
        <translation>lantern-headless-client؛ خالی ہو تو PATH میں تلاش کیا جاتا ہے۔</translation>
    </message>
    <message>
        <source>Connection</source>
        <translation>کنکشن</translation>
    </message>
    <message>
        <source>A VPN connection saved in NetworkManager, by its name (choose one from the list).</source>
        <translation>NetworkManager میں محفوظ VPN کنکشن، اس کے نام سے (فہرست میں سے چنیں)۔</translation>
    </message>
    <message>
        <source>Connection UUID</source>
        <translation>کنکشن کا UUID</translation>
    </message>
    <message>
        <source>Instead of the name: the connection&apos;s UUID (nmcli connection show).</source>
        <translation>نام کی بجائے: کنکشن کا UUID ‏(nmcli connection show)۔</translation>
    </message>
    <message>
        <source>Name prefix</source>
        <translation>نام کا سابقہ</translation>
    </message>
    <message>
        <source>Instead of one connection: any connection whose name starts with this (for apps that create their own connections).</source>
        <translation>ایک کنکشن کی بجائے: کوئی بھی کنکشن جس کا نام اس سے شروع ہو (ان ایپس کے لیے جو اپنے کنکشن خود بناتی ہیں)۔</translation>
    </message>
    <message>
        <source>App that creates the connections</source>
        <translation>کنکشن بنانے والی ایپ</translation>
    </message>
    <message>
        <source>Started when no connection with the prefix exists; only with a prefix.</source>
        <translation>تب شروع کی جاتی ہے جب اس سابقے والا کوئی کنکشن نہ ہو؛ صرف سابقے کے ساتھ۔</translation>
    </message>
    <message>
        <source>The tunnel&apos;s interface, when NetworkManager does not report it.</source>
        <translation>ٹنل کا انٹرفیس، جب NetworkManager اسے نہ بتائے۔</translation>
    </message>
    <message>
        <source>Server group</source>
        <translation>سرور گروپ</translation>
    </message>
    <message>
        <source>OpenVPN configuration</source>
        <translation>OpenVPN کنفیگریشن</translation>
    </message>
    <message>
        <source>The .ovpn or .conf file from your provider. Choose a file to import it.</source>
        <translation>آپ کے فراہم کنندہ کی ‎.ovpn یا ‎.conf فائل۔ درآمد کرنے کے لیے فائل چنیں۔</translation>
    </message>
    <message>
        <source>OpenVPN files (*.ovpn *.conf)</source>
        <translation>OpenVPN فائلیں (*.ovpn *.conf)</translation>
    </message>
    <message>
        <source>User name</source>
        <translation>صارف نام</translation>
    </message>
    <message>
        <source>Only if the server asks for a user name and password.</source>
        <translation>صرف اس صورت میں جب سرور صارف نام اور پاس ورڈ مانگے۔</translation>
    </message>
    <message>
        <source>Password</source>
        <translation>پاس ورڈ</translation>
    </message>
    <message>
        <source>Kept in your keyring, never in the settings file.</source>
        <translation>آپ کے کی رنگ میں محفوظ، سیٹنگز فائل میں کبھی نہیں۔</translation>
    </message>
    <message>
        <source>Configuration file</source>
        <translation>کنفیگریشن فائل</translation>
    </message>
    <message>
        <source>Region</source>
        <translation>علاقہ</translation>
    </message>
    <message>
        <source>Core</source>
        <translation>کور</translation>
    </message>
    <message>
        <source>The program that reads your configuration file.</source>
        <translation>وہ پروگرام جو آپ کی کنفیگریشن فائل پڑھتا ہے۔</translation>
    </message>
    <message>
        <source>The core&apos;s JSON configuration, with a socks, mixed or http inbound on this computer.</source>
        <translation>کور کی JSON کنفیگریشن، اس کمپیوٹر پر socks، mixed یا http ان باؤنڈ کے ساتھ۔</translation>
    </message>
    <message>
        <source>JSON configuration (*.json)</source>
        <translation>JSON کنفیگریشن (*.json)</translation>
    </message>
    <message>
        <source>The core&apos;s executable; found on PATH when empty.</source>
        <translation>کور کا پروگرام؛ خالی ہو تو PATH میں تلاش کیا جاتا ہے۔</translation>
    </message>
    <message>
        <source>Psiphon configuration</source>
        <translation>سائفون کنفیگریشن</translation>
    </message>
    <message>
        <source>Psiphon&apos;s client.json.</source>
        <translation>سائفون کی client.json فائل۔</translation>
    </message>
    <message>
        <source>Psiphon config (*.json)</source>
        <translation>سائفون کنفیگریشن (*.json)</translation>
    </message>
    <message>
        <source>Access key</source>
        <translation>رسائی کی کلید</translation>
    </message>
    <message>
        <source>The ss:// or ssconf:// key from your provider or Outline server; kept in your keyring.</source>
        <translation>آپ کے فراہم کنندہ یا آؤٹ لائن سرور کی ss:// یا ssconf:// کلید؛ آپ کے کی رنگ میں محفوظ۔</translation>
    </message>
    <message>
        <source>Local SOCKS port</source>
        <translation>مقامی SOCKS پورٹ</translation>
    </message>
    <message>
        <source>0 or empty: any free port.</source>
        <translation>0 یا خالی: کوئی بھی خالی پورٹ۔</translation>
    </message>
    <message>
        <source>Shadowsocks client program</source>
        <translation>شیڈو ساکس کلائنٹ پروگرام</translation>
    </message>
    <message>
        <source>ss-local (shadowsocks-libev) or sslocal (shadowsocks-rust); found on PATH when empty.</source>
        <translation>ss-local ‏(shadowsocks-libev) یا sslocal ‏(shadowsocks-rust)؛ خالی ہو تو PATH میں تلاش کیا جاتا ہے۔</translation>
    </message>
    <message>
        <source>Exit node</source>
        <translation>ایگزٹ نوڈ</translation>
    </message>
    <message>
        <source>Allow the local network</source>
        <translation>مقامی نیٹ ورک کی اجازت دیں</translation>
    </message>
    <message>
        <source>How to reach Tor</source>
        <translation>ٹور تک کیسے پہنچیں</translation>
    </message>
    <message>
        <source>Where Tor is blocked, bridges with a pluggable transport hide it. With a transport chosen, every bridge line must use it; automatic takes any.</source>
        <translation>جہاں ٹور بند ہو، پلگ ایبل ٹرانسپورٹ والے برج اسے چھپاتے ہیں۔ ٹرانسپورٹ چنا ہو تو ہر برج سطر وہی استعمال کرے؛ خودکار میں کوئی بھی چلتا ہے۔</translation>
    </message>
    <message>
        <source>Automatic</source>
        <translation>خودکار</translation>
    </message>
    <message>
        <source>Bridge lines</source>
        <translation>برج کی سطریں</translation>
    </message>
    <message>
        <source>One bridge per line, from bridges.torproject.org or a friend. Empty: connect to Tor directly.</source>
        <translation>ہر سطر میں ایک برج، bridges.torproject.org سے یا کسی دوست سے۔ خالی: ٹور سے براہ راست جڑیں۔</translation>
    </message>
    <message>
        <source>Hot standby</source>
        <translation>فوری تیار حالت</translation>
    </message>
    <message>
        <source>Keep Tor started and ready in the background, so switching to it takes a second.</source>
        <translation>ٹور کو پس منظر میں چالو اور تیار رکھیں، تاکہ اس پر جانا ایک سیکنڈ لے۔</translation>
    </message>
    <message>
        <source>Set the system proxy</source>
        <translation>سسٹم پراکسی مقرر کریں</translation>
    </message>
    <message>
        <source>While Tor is in use, point the desktop&apos;s proxy setting at it (and restore it after).</source>
        <translation>جب تک ٹور استعمال میں ہو، ڈیسک ٹاپ کی پراکسی سیٹنگ اس کی طرف رکھیں (اور بعد میں بحال کریں)۔</translation>
    </message>
    <message>
        <source>SOCKS port</source>
        <translation>SOCKS پورٹ</translation>
    </message>
    <message>
        <source>Give up a stalled start after (s)</source>
        <translation>رکا ہوا آغاز اتنے سیکنڈ بعد چھوڑ دیں</translation>
    </message>
    <message>
        <source>SOCKS timeout (s)</source>
        <translation>SOCKS کی مہلت (سیکنڈ)</translation>
    </message>
    <message>
        <source>tor program</source>
        <translation>ٹور پروگرام</translation>
    </message>
    <message>
        <source>Extra torrc lines</source>
        <translation>torrc کی اضافی سطریں</translation>
    </message>
    <message>
        <source>WireGuard configuration</source>
        <translation>WireGuard کنفیگریشن</translation>
    </message>
    <message>
        <source>The tunnel&apos;s .conf file (or, on Linux, an installed tunnel&apos;s name such as wg0). Choose a file to import it.</source>
        <translation>ٹنل کی ‎.conf فائل (یا لینکس پر نصب ٹنل کا نام جیسے wg0)۔ درآمد کرنے کے لیے فائل چنیں۔</translation>
    </message>
    <message>
        <source>WireGuard / AmneziaWG files (*.conf)</source>
        <translation>WireGuard / AmneziaWG فائلیں (*.conf)</translation>
    </message>
</context>
</TS>
