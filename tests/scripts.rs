//! The project's scripts, where what they refuse to do matters.

use std::process::Command;

fn root() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

/// The template deploys arm64: when the arm64 target cannot be added, `scripts/build-lambda` fails and
/// says why, instead of building x86_64 bootstraps that prove nothing about the deployment.
#[test]
fn build_lambda_fails_when_arm64_cannot_be_built() {
    let fake = std::env::temp_dir().join(format!("ob-no-arm64-{}", std::process::id()));
    std::fs::create_dir_all(&fake).unwrap();
    let rustup = fake.join("rustup");
    std::fs::write(
        &rustup,
        "#!/bin/sh\necho 'error: component download failed' >&2\nexit 1\n",
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&rustup, std::fs::Permissions::from_mode(0o755)).unwrap();
    let path = format!(
        "{}:{}",
        fake.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let out = Command::new("bash")
        .arg("scripts/build-lambda")
        .current_dir(root())
        .env("PATH", path)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{stdout}\n{stderr}");
    assert!(stderr.contains("arm64 build cannot run"), "{stderr}");
    assert!(!stdout.contains("x86_64") && !stderr.contains("building x86_64"));
    let _ = std::fs::remove_dir_all(&fake);
}
