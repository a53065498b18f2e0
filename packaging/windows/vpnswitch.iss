; Inno Setup script: a per-user install (no administrator rights needed) of the PyInstaller folder.
;   iscc packaging\windows\vpnswitch.iss
; The "start at login" task writes the same Run value the app's own setting manages
; (HKCU\Software\Microsoft\Windows\CurrentVersion\Run, value "vpnswitch"), so the two never disagree.

#define AppName "vpnswitch"
#define AppVersion "0.1.0"

[Setup]
AppId={{3C5F3E0B-7C4B-4A57-9E7E-5B8F6A9D1C21}
AppName={#AppName}
AppVersion={#AppVersion}
DefaultDirName={localappdata}\Programs\{#AppName}
PrivilegesRequired=lowest
DisableProgramGroupPage=yes
OutputBaseFilename=vpnswitch-{#AppVersion}-setup
Compression=lzma2
SolidCompression=yes
ArchitecturesInstallIn64BitMode=x64compatible

[Languages]
Name: "english"; MessagesFile: "compiler:Default.isl"

[Tasks]
Name: "autostart"; Description: "Start vpnswitch when I log in"

[Files]
Source: "..\..\dist\vpnswitch\*"; DestDir: "{app}"; Flags: recursesubdirs ignoreversion

[Icons]
Name: "{userprograms}\{#AppName}"; Filename: "{app}\vpnswitch.exe"

[Registry]
Root: HKCU; Subkey: "Software\Microsoft\Windows\CurrentVersion\Run"; ValueType: string; ValueName: "vpnswitch"; \
  ValueData: """{app}\vpnswitch.exe"" --minimized"; Tasks: autostart; Flags: uninsdeletevalue

[Run]
Filename: "{app}\vpnswitch.exe"; Description: "Start vpnswitch"; Flags: nowait postinstall skipifsilent
