; Inno Setup 6 script for Folio's Windows installer.
; packaging/build.py compiles it after PyInstaller has written dist\folio\:
;   iscc /DAppVersion=<ver> /DSourceDir=<abs dist\folio> /DOutputDir=<abs dist>
;        /DIconFile=<abs resources\icons\folio.ico> packaging\windows\folio.iss
; and gets dist\Folio-Setup-<ver>.exe.

; The defines come from build.py: fail with a clear message rather than compile a broken setup.
#ifndef AppVersion
  #error AppVersion is not defined (iscc /DAppVersion=...)
#endif
#ifndef SourceDir
  #error SourceDir is not defined (iscc /DSourceDir=<dist\folio>)
#endif
#ifndef OutputDir
  #error OutputDir is not defined (iscc /DOutputDir=<dist>)
#endif
#ifndef IconFile
  #error IconFile is not defined (iscc /DIconFile=<folio.ico>)
#endif
; x64compatible needs 6.3; older compilers reject it with a less helpful message.
#if VER < EncodeVer(6, 3, 0)
  #error Inno Setup 6.3 or later is required
#endif

[Setup]
; AppId ties upgrades and the uninstaller to this product: never change it.
AppId={{15BE8612-A0D2-4A0F-BA49-0BD4F2E57F21}
AppName=Folio
AppVersion={#AppVersion}
AppPublisher=Folio
UninstallDisplayName=Folio
; Per-user by default, so no UAC prompt; the dialog offers an all-users install instead.
; {autopf} then resolves to %LOCALAPPDATA%\Programs or Program Files accordingly.
PrivilegesRequired=lowest
PrivilegesRequiredOverridesAllowed=dialog
DefaultDirName={autopf}\Folio
; Shortcuts go straight to {autoprograms}: no Start-menu folder to choose.
DisableProgramGroupPage=yes
; The bundle holds only x64 binaries (runs on Arm64 Windows 11 through emulation).
ArchitecturesAllowed=x64compatible
ArchitecturesInstallIn64BitMode=x64compatible
; Solid LZMA2 shrinks the bundle (Python runtime, Qt, the models) the most.
Compression=lzma2
SolidCompression=yes
WizardStyle=modern
SetupIconFile={#IconFile}
UninstallDisplayIcon={app}\folio.exe
OutputDir={#OutputDir}
OutputBaseFilename=Folio-Setup-{#AppVersion}
; Show the licence page only when the repository has a LICENSE file.
#ifexist AddBackslash(SourcePath) + "..\..\LICENSE"
LicenseFile={#AddBackslash(SourcePath)}..\..\LICENSE
#endif

[Languages]
Name: "english"; MessagesFile: "compiler:Default.isl"

[Tasks]
Name: "desktopicon"; Description: "{cm:CreateDesktopIcon}"; GroupDescription: "{cm:AdditionalIcons}"; Flags: unchecked

[InstallDelete]
; An upgrade replaces the whole PyInstaller bundle: libraries an older version shipped and
; this one no longer does must not linger next to the new ones. Only Folio's own folder.
Type: filesandordirs; Name: "{app}\_internal"

[Files]
; The whole one-folder bundle: folio.exe (the window), folio-cli.exe (the command line,
; run it as "{app}\folio-cli.exe"; the installer leaves PATH alone) and _internal\.
Source: "{#SourceDir}\*"; DestDir: "{app}"; Flags: ignoreversion recursesubdirs createallsubdirs

[Icons]
Name: "{autoprograms}\Folio"; Filename: "{app}\folio.exe"
Name: "{autodesktop}\Folio"; Filename: "{app}\folio.exe"; Tasks: desktopicon

[Run]
Filename: "{app}\folio.exe"; Description: "{cm:LaunchProgram,Folio}"; Flags: nowait postinstall skipifsilent

; No [UninstallDelete]: Folio writes nothing inside {app} (the frozen interpreter does not
; write bytecode), so the uninstaller's own log removes everything it installed. The user's
; libraries, settings and logs live in %LOCALAPPDATA%\Folio and are deliberately kept.
