//! The layering of src/ (src/lib.rs): a module imports only from its own
//! layer and the ones below, src/table/ from nothing else in the crate
//! but src/put.rs (build.rs compiles the two alone), and no two files import each other,
//! directly or round a loop. Reads every `use` tree and every inline
//! `crate::` path; a name re-exported by a `mod.rs` counts as an import
//! of the file that defines it.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Lowest first.
const LAYERS: &[&str] = &[
    "put",
    "sys",
    "table",
    "place",
    "supervise",
    "control",
    "boot",
    "cli",
];

fn rel(src: &Path, p: &Path) -> String {
    p.strip_prefix(src).unwrap_or(p).display().to_string()
}

fn files(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// The code of a file without its comment lines.
fn code(path: &Path) -> String {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .filter(|l| !l.trim_start().starts_with("//"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Every `use` tree of a file, and whether it is `pub`.
fn uses(text: &str) -> Vec<(bool, String)> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(i) = rest.find("use ") {
        let before = &rest[..i];
        let after = &rest[i + 4..];
        let end = after.find(';').unwrap_or(after.len());
        // A `use` item starts its line (after `pub` or `pub(crate)`): not
        // the word inside a string or an identifier.
        let line_start = before.rsplit('\n').next().unwrap_or("").trim();
        let word_start = line_start.is_empty()
            || line_start == "pub"
            || (line_start.starts_with("pub(") && line_start.ends_with(')'));
        if word_start {
            let public = before.trim_end().ends_with("pub") || before.trim_end().ends_with(')');
            out.push((public, after[..end].replace('\n', " ")));
        }
        rest = &after[end..];
    }
    out
}

/// `a::{b, c::{d, e}}` as `a::b`, `a::c::d`, `a::c::e`.
fn expand(tree: &str, prefix: &str, out: &mut Vec<String>) {
    let tree = tree.trim();
    let join = |p: &str, s: &str| {
        if p.is_empty() {
            s.to_string()
        } else {
            format!("{}::{}", p, s)
        }
    };
    match tree.find('{') {
        None => {
            let t = tree.split(" as ").next().unwrap().trim();
            if !t.is_empty() {
                out.push(join(prefix, t.trim_end_matches("::")));
            }
        }
        Some(open) => {
            let head = tree[..open].trim().trim_end_matches("::");
            let inner = &tree[open + 1..tree.rfind('}').unwrap()];
            let (mut depth, mut start) = (0, 0);
            let p = join(prefix, head);
            for (i, c) in inner.char_indices() {
                match c {
                    '{' => depth += 1,
                    '}' => depth -= 1,
                    ',' if depth == 0 => {
                        expand(&inner[start..i], &p, out);
                        start = i + 1;
                    }
                    _ => {}
                }
            }
            expand(&inner[start..], &p, out);
        }
    }
}

/// The module path of a file: src/supervise/unit.rs is `supervise::unit`.
fn module_of(src: &Path, file: &Path) -> Vec<String> {
    let rel = file.strip_prefix(src).unwrap().with_extension("");
    let mut m: Vec<String> = rel
        .iter()
        .map(|s| s.to_str().unwrap().to_string())
        .collect();
    if m.last().is_some_and(|l| l == "mod" || l == "lib") {
        m.pop();
    }
    m
}

struct Tree {
    src: PathBuf,
    /// Per mod.rs: re-exported name -> the submodule it comes from.
    reexports: BTreeMap<PathBuf, BTreeMap<String, String>>,
}

impl Tree {
    /// The file an absolute module path (`supervise::epoll::token::NOTIFY`) lands in.
    fn file_of(&self, path: &[String]) -> Option<PathBuf> {
        let mut dir = self.src.clone();
        for (i, seg) in path.iter().enumerate() {
            let file = dir.join(format!("{}.rs", seg));
            if file.exists() {
                return Some(file);
            }
            let sub = dir.join(seg);
            if sub.join("mod.rs").exists() {
                dir = sub;
                continue;
            }
            if i == 0 {
                return None; // a crate outside src/ (core, rustix, ...)
            }
            let m = dir.join("mod.rs");
            return match self.reexports.get(&m).and_then(|r| r.get(seg)) {
                Some(from) => {
                    self.file_of(&[module_of(&self.src, &m), vec![from.clone()]].concat())
                }
                None => Some(m),
            };
        }
        Some(dir.join("mod.rs"))
    }
}

fn layer(src: &Path, file: &Path) -> usize {
    let first = file
        .strip_prefix(src)
        .unwrap()
        .iter()
        .next()
        .unwrap()
        .to_str()
        .unwrap();
    let name = first.trim_end_matches(".rs");
    LAYERS
        .iter()
        .position(|l| *l == name)
        .unwrap_or(LAYERS.len())
}

#[test]
fn imports_go_down_the_layers_and_never_round_a_loop() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut all = Vec::new();
    files(&src, &mut all);
    all.retain(|f| !f.ends_with("lib.rs") && !f.ends_with("main.rs"));
    let mut tree = Tree {
        src: src.clone(),
        reexports: BTreeMap::new(),
    };
    for f in all.iter().filter(|f| f.ends_with("mod.rs")) {
        let mut map = BTreeMap::new();
        for (public, tree) in uses(&code(f)) {
            if !public {
                continue;
            }
            let mut paths = Vec::new();
            expand(&tree, "", &mut paths);
            for p in paths {
                let segs: Vec<&str> = p.split("::").collect();
                if segs.len() == 2 {
                    map.insert(segs[1].to_string(), segs[0].to_string());
                }
            }
        }
        tree.reexports.insert(f.clone(), map);
    }

    let mut edges: BTreeMap<PathBuf, BTreeSet<PathBuf>> = BTreeMap::new();
    let mut wrong = Vec::new();
    for f in &all {
        let text = code(f);
        let here = module_of(&src, f);
        let is_mod = f.ends_with("mod.rs");
        let mut paths = Vec::new();
        for (public, tree) in uses(&text) {
            // A mod.rs re-exports: not a dependency of its own.
            if !(is_mod && public) {
                expand(&tree, "", &mut paths);
            }
        }
        // Inline paths: `crate::sys::kill(...)`.
        for (i, _) in text.match_indices("crate::") {
            let tail: String = text[i..]
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_' || *c == ':')
                .collect();
            paths.push(tail.trim_end_matches(':').to_string());
        }
        for p in paths {
            let segs: Vec<String> = p.split("::").map(String::from).collect();
            if segs.len() < 2 {
                continue;
            }
            let abs: Vec<String> = match segs[0].as_str() {
                "crate" => segs[1..].to_vec(),
                "super" => {
                    let mut base = here.clone();
                    base.pop();
                    [base, segs[1..].to_vec()].concat()
                }
                "self" => [here.clone(), segs[1..].to_vec()].concat(),
                _ if is_mod && f.parent().unwrap().join(format!("{}.rs", segs[0])).exists() => {
                    [here.clone(), segs.clone()].concat()
                }
                _ => continue,
            };
            let target = match tree.file_of(&abs) {
                Some(t) if t != *f => t,
                _ => continue,
            };
            let (from, to) = (layer(&src, f), layer(&src, &target));
            let table = LAYERS.iter().position(|l| *l == "table").unwrap();
            let put = LAYERS.iter().position(|l| *l == "put").unwrap();
            if to > from || (from == table && to != table && to != put) {
                let line = format!("{} imports {} ({})", rel(&src, f), rel(&src, &target), p);
                if !wrong.contains(&line) {
                    wrong.push(line);
                }
            }
            edges.entry(f.clone()).or_default().insert(target);
        }
    }
    assert!(
        wrong.is_empty(),
        "imports from a layer above:\n{}",
        wrong.join("\n")
    );

    // A loop: depth-first search for a back edge.
    fn visit(
        src: &Path,
        f: &PathBuf,
        edges: &BTreeMap<PathBuf, BTreeSet<PathBuf>>,
        state: &mut BTreeMap<PathBuf, u8>,
        stack: &mut Vec<PathBuf>,
        loops: &mut Vec<String>,
    ) {
        state.insert(f.clone(), 1);
        stack.push(f.clone());
        for g in edges.get(f).into_iter().flatten() {
            match state.get(g).copied().unwrap_or(0) {
                0 => visit(src, g, edges, state, stack, loops),
                1 => {
                    let at = stack.iter().position(|s| s == g).unwrap();
                    // Written from its smallest file, so a loop has one name.
                    let mut names: Vec<String> = stack[at..].iter().map(|p| rel(src, p)).collect();
                    let min = (0..names.len()).min_by_key(|&i| names[i].clone()).unwrap();
                    names.rotate_left(min);
                    names.push(names[0].clone());
                    loops.push(names.join(" -> "));
                }
                _ => {}
            }
        }
        stack.pop();
        state.insert(f.clone(), 2);
    }
    let (mut state, mut loops) = (BTreeMap::new(), Vec::new());
    for f in &all {
        if !state.contains_key(f) {
            visit(&src, f, &edges, &mut state, &mut Vec::new(), &mut loops);
        }
    }
    assert!(
        loops.is_empty(),
        "import loops between files:\n{}",
        loops.join("\n")
    );
    assert!(
        edges.len() > 20,
        "too few imports found: the scan is broken"
    );
}
