//! Every board file in board-configs/ passes `pinit check` (build.rs
//! checks only the board compiled in), and `--print` of it checks again:
//! a broken board file fails `make test`.

use std::process::Command;

#[test]
fn every_board_checks() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/board-configs");
    let mut boards: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "conf"))
        .map(|p| p.to_str().unwrap().to_string())
        .collect();
    boards.sort();
    // The two QEMU boards of each arch and the real ones at least.
    for b in [
        "qemu-x86_64",
        "qemu-aarch64",
        "qemu-armv7",
        "qemu-riscv64",
        "rpi4",
        "x86-industrial",
        "beaglebone-black",
        "visionfive2",
    ] {
        assert!(
            boards.iter().any(|p| p.ends_with(&format!("/{b}.conf"))),
            "board-configs/{b}.conf is missing"
        );
    }
    for path in &boards {
        let out = Command::new(env!("CARGO_BIN_EXE_pinit"))
            .args(["check", "--print", path])
            .output()
            .unwrap();
        assert_eq!(
            out.status.code(),
            Some(0),
            "{path}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        // What --print wrote is a valid table too.
        let printed = std::env::temp_dir().join(format!(
            "pinit-board-{}-{}",
            std::process::id(),
            path.rsplit('/').next().unwrap()
        ));
        std::fs::write(&printed, &out.stdout).unwrap();
        let again = Command::new(env!("CARGO_BIN_EXE_pinit"))
            .args(["check", printed.to_str().unwrap()])
            .output()
            .unwrap();
        std::fs::remove_file(&printed).unwrap();
        assert_eq!(
            again.status.code(),
            Some(0),
            "{path} --print: {}",
            String::from_utf8_lossy(&again.stderr)
        );
    }
}
