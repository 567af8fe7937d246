//! Parses arbitrary bytes as a service table. Never panics; every error
//! is one `FILE:LINE:COL: error:` line; and a table that parses prints
//! (`check --print`) as a config that parses again to the same print.
#![no_main]

use libfuzzer_sys::fuzz_target;
use pinit::table::{self, capacity, Table};

fn parse<'a>(text: &'a [u8], table: &mut Table<'a>, diags: &mut Vec<String>) -> usize {
    table::parse("fuzz.conf", text, table, &mut |d| diags.push(d.to_string()))
}

fuzz_target!(|data: &[u8]| {
    let mut t = Box::new(Table::new());
    let mut diags = Vec::new();
    let errors = parse(data, &mut t, &mut diags);
    assert_eq!(errors, diags.len());
    assert!(errors <= capacity::ERRORS_MAX + 1);
    for d in &diags {
        assert!(d.starts_with("fuzz.conf:"), "{}", d);
        assert!(d.contains(": error: "), "{}", d);
        assert!(!d.contains('\n'), "{:?}", d);
    }
    if errors > 0 {
        return;
    }
    // A valid table: the start order holds every unit, after its deps.
    assert_eq!(t.order.len(), t.units.len());
    for (pos, (i, u)) in t.in_order().enumerate() {
        for d in u.deps() {
            assert!(d.unit != i);
            let dpos = t.order.iter().position(|&o| usize::from(o) == d.unit).unwrap();
            assert!(dpos < pos);
        }
        // argv decodes into a LINE_MAX buffer, as the docs promise.
        let mut buf = [0u8; capacity::LINE_MAX];
        let argv = table::decode_all(u.argv(), &mut buf).expect("argv fits LINE_MAX");
        assert_eq!(argv.count(), usize::from(u.argc));
        assert!(u.program().bytes().next() == Some(b'/'));
    }
    // Print, parse the print, print again: the same text.
    let mut first = String::new();
    table::print("fuzz.conf", &t, &mut first).unwrap();
    let mut t2 = Box::new(Table::new());
    let mut diags2 = Vec::new();
    let errors2 = parse(first.as_bytes(), &mut t2, &mut diags2);
    if errors2 > 0 {
        // Printing adds the defaults: a statement near LINE_MAX may grow
        // past it. Nothing else may fail.
        assert!(
            diags2.iter().all(|d| d.contains("bytes long, more than the limit")),
            "{:?}\n{}",
            diags2,
            first
        );
        return;
    }
    let mut second = String::new();
    table::print("fuzz.conf", &t2, &mut second).unwrap();
    assert_eq!(first, second);
});
