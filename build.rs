//! Checks the board's service table with the parser the binary uses and
//! compiles it in (docs/config.md, "Building a board"): a board file with
//! an error fails the build with the parser's `FILE:LINE:COL: error:`
//! messages.
//!
//! PINIT_BOARD picks `board-configs/NAME.conf` (default `qemu-x86_64`);
//! PINIT_BOARD_DIR replaces `board-configs` (for tests and out-of-tree
//! boards).
#![allow(unexpected_cfgs)]

// The build script uses `parse` and `Table` only: the rest of the module
// and its re-exports are for the binary.
#[path = "src/table/mod.rs"]
#[allow(dead_code, unused_imports)]
mod table;

// The table's values write their text through `put` (no `core::fmt` in
// PID 1's messages), the layer below the table.
#[path = "src/put.rs"]
#[allow(dead_code, unused_macros)]
mod put;

use std::path::PathBuf;

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    link_scripts();
    println!("cargo:rerun-if-changed=src/table");
    println!("cargo:rerun-if-env-changed=PINIT_BOARD");
    println!("cargo:rerun-if-env-changed=PINIT_BOARD_DIR");
    println!("cargo::rustc-check-cfg=cfg(pinit_board)");
    let name = std::env::var("PINIT_BOARD").unwrap_or_else(|_| "qemu-x86_64".into());
    if name.is_empty()
        || !name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"_.-".contains(&b))
    {
        fail(&[format!(
            "PINIT_BOARD='{name}': expected a board name like qemu-x86_64"
        )]);
    }
    let dir = std::env::var("PINIT_BOARD_DIR").unwrap_or_else(|_| "board-configs".into());
    let path = PathBuf::from(&dir).join(format!("{name}.conf"));
    let shown = path.display().to_string();
    println!("cargo:rerun-if-changed={shown}");
    let text = match std::fs::read(&path) {
        Ok(t) => t,
        Err(e) => fail(&[format!(
            "{shown}: unable to read the board: {e} (boards: {})",
            boards(&dir)
        )]),
    };
    let mut table = Box::new(table::Table::new());
    let mut errors = Vec::new();
    table::parse(&shown, &text, &mut table, &mut |d| {
        errors.push(d.to_string())
    });
    if !errors.is_empty() {
        fail(&errors);
    }
    let out = PathBuf::from(std::env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    std::fs::write(out.join("board.conf"), &text).expect("OUT_DIR is writable");
    println!("cargo:rustc-env=PINIT_BOARD_NAME={name}");
    println!("cargo:rustc-env=PINIT_BOARD_FILE={shown}");
    println!("cargo:rustc-cfg=pinit_board");
}

/// The boards in `dir`, for the "unable to read" message.
fn boards(dir: &str) -> String {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .map(|rd| {
            rd.filter_map(|e| e.ok()?.file_name().into_string().ok())
                .filter_map(|n| n.strip_suffix(".conf").map(String::from))
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names.join(", ")
}

/// Prints each message as a cargo error (and on stderr) and fails.
fn fail(messages: &[String]) -> ! {
    for m in messages {
        println!("cargo::error={m}");
        eprintln!("{m}");
    }
    // With cargo::error= the build already fails; exiting 0 keeps cargo
    // from burying the messages under the script's whole output.
    std::process::exit(0);
}

/// The linker script fragments of the musl targets, for the pinit binary
/// only: tools/noeh.ld discards the unwind tables (pinit is built with
/// panic=abort and never unwinds; they were 15% of the binary; musl's crt
/// objects keep theirs, their start-up code refers to it), tools/cold.ld
/// puts the code PID 1 runs only at boot, reload and shutdown, and the
/// client's, after the rest of the text, and tools/hot.ld what its loop
/// runs in steady state first (src/sys/text.rs says why; hot.ld comes
/// after cold.ld, whose patterns then win where both match), tools/bss.ld
/// the order of .bss (musl's and the small statics first, then the big
/// ones by how they are used, the slots on a page boundary, the
/// nurseries last). The linker, tools/ldsplit, knows pinit's link by
/// tools/hot.ld.
fn link_scripts() {
    let target = std::env::var("TARGET").unwrap_or_default();
    let dir = std::env::var("CARGO_MANIFEST_DIR").unwrap_or_default();
    // The linker cargo uses for this target (.cargo/config.toml or
    // CARGO_TARGET_*_LINKER, as Buildroot sets it); none: cc.
    println!("cargo:rerun-if-env-changed=RUSTC_LINKER");
    let linker = std::env::var("RUSTC_LINKER").unwrap_or_default();
    if target.contains("-linux-musl") {
        // No RELRO segment: musl applies PT_GNU_RELRO only in its dynamic
        // linker, so in a static executable it protects nothing, and its
        // page-aligned end costs a page of memory (docs/design.md §1).
        if linker.ends_with("lld") {
            println!("cargo:rustc-link-arg-bins=-znorelro");
        } else {
            println!("cargo:rustc-link-arg-bins=-Wl,-z,norelro");
        }
    }
    for name in ["noeh.ld", "cold.ld", "hot.ld", "bss.ld"] {
        println!("cargo:rerun-if-changed=tools/{name}");
        if !target.contains("-linux-musl") {
            continue;
        }
        let script = format!("{dir}/tools/{name}");
        if linker.ends_with("lld") {
            // rust-lld or ld.lld (ld flavor): the option goes straight to it.
            println!("cargo:rustc-link-arg-bins=--script={script}");
        } else {
            // A C compiler driver (cc, a cross gcc): through -Wl.
            println!("cargo:rustc-link-arg-bins=-Wl,-T,{script}");
        }
    }
}
