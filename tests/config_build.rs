//! A board with an error fails `cargo build` with the parser's
//! `FILE:LINE:COL: error:` messages (build.rs checks the board with the
//! same parser the binary runs).

use std::process::Command;

#[test]
fn broken_board_fails_the_build() {
    let root = env!("CARGO_MANIFEST_DIR");
    let dir = std::env::temp_dir().join(format!("pinit-boards-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("broken.conf"),
        "hostname ok\nservice a cpu=1 -- /bin/a\nservice b after=a,c -- /bin/b\n",
    )
    .unwrap();
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    // A target directory of its own: the one of `cargo test` is locked.
    let out = Command::new(&cargo)
        .args(["build", "--quiet"])
        .current_dir(root)
        .env("CARGO_TARGET_DIR", format!("{root}/target/board-test"))
        .env("PINIT_BOARD", "broken")
        .env("PINIT_BOARD_DIR", &dir)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "the build passed:\n{}", err);
    let file = dir.join("broken.conf");
    let file = file.display();
    for want in [
        format!("{file}:2:11: error: unknown option 'cpu' — did you mean 'cpus'?"),
        format!("{file}:3:19: error: unknown unit 'c' in 'after='"),
    ] {
        assert!(err.contains(&want), "missing {:?} in:\n{}", want, err);
    }

    // A board that does not exist: the message lists the boards.
    let out = Command::new(&cargo)
        .args(["build", "--quiet"])
        .current_dir(root)
        .env("CARGO_TARGET_DIR", format!("{root}/target/board-test"))
        .env("PINIT_BOARD", "no-such-board")
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    let mut boards: Vec<String> = std::fs::read_dir(format!("{root}/board-configs"))
        .unwrap()
        .filter_map(|e| e.unwrap().file_name().into_string().ok())
        .filter_map(|n| n.strip_suffix(".conf").map(String::from))
        .collect();
    boards.sort();
    assert!(
        err.contains("board-configs/no-such-board.conf: unable to read the board")
            && err.contains(&format!("boards: {})", boards.join(", "))),
        "{}",
        err
    );
}
