//! The loader against hostile input: it never panics, and bombs, deep nesting and huge files
//! are refused quickly with a clear error instead of eating memory or time.

use std::time::{Duration, Instant};

use galleon_manifest::Code;
use galleon_manifest::load::{MAX_FILE_BYTES, load, parse_file, parser_options};
use proptest::prelude::*;

/// Refused by the manifest loader, and — to prove it is the budget and not merely a type
/// mismatch — also by the same parser options reading into an untyped value.
fn refused_quickly(text: &str) -> String {
    let start = Instant::now();
    let err = *parse_file(0, text).expect_err("hostile input must be refused");
    assert_eq!(err.code, Code::Parse);
    let untyped = serde_saphyr::from_str_with_options::<serde_json::Value>(text, parser_options())
        .expect_err("the budget must refuse it even untyped");
    assert!(
        start.elapsed() < Duration::from_secs(5),
        "took {:?}",
        start.elapsed()
    );
    untyped.to_string()
}

#[test]
fn billion_laughs_is_refused() {
    let mut text = String::from(
        "workspace: &a0 [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n",
    );
    for i in 1..10 {
        let prev = format!("*a{}", i - 1);
        text.push_str(&format!("x{i}: &a{i} [{}]\n", vec![prev; 10].join(",")));
    }
    let err = refused_quickly(&text);
    assert!(
        err.to_lowercase().contains("alias") || err.contains("budget"),
        "{err}"
    );
}

#[test]
fn deep_nesting_is_refused() {
    let flow = format!("workspace: {}{}\n", "[".repeat(5_000), "]".repeat(5_000));
    refused_quickly(&flow);
    let mut block = String::from("workspace:\n");
    for depth in 1..200 {
        block.push_str(&"  ".repeat(depth));
        block.push_str("- \n");
    }
    refused_quickly(&block);
}

#[test]
fn too_many_nodes_is_refused() {
    let text = format!("workspace: [{}]\n", vec!["1"; 120_000].join(","));
    let err = refused_quickly(&text);
    assert!(
        err.to_lowercase().contains("node") || err.contains("budget"),
        "{err}"
    );
}

#[test]
fn huge_files_are_refused_before_reading() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("big.yaml");
    let f = std::fs::File::create(&path).unwrap();
    f.set_len(MAX_FILE_BYTES + 1).unwrap();
    let start = Instant::now();
    let (_, m, diags) = load(&path);
    assert!(start.elapsed() < Duration::from_secs(1));
    assert!(m.is_none());
    assert_eq!(diags[0].code, Code::FileTooLarge);
    assert!(
        diags[0].message.contains("limited to 4194304 bytes"),
        "{}",
        diags[0].message
    );
}

#[test]
fn non_utf8_is_a_diagnostic() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("bad.yaml"), [0xff, 0xfe, b'a']).unwrap();
    let (_, m, diags) = load(dir.path());
    assert!(m.is_none());
    assert_eq!(diags[0].code, Code::Parse);
    assert!(diags[0].message.contains("UTF-8"));
}

const KEYS: &[&str] = &[
    "workspace",
    "tenants",
    "resource_groups",
    "galleries",
    "images",
    "versions",
    "networks",
    "subnets",
    "virtual_machines",
    "tenant",
    "auth",
    "client_secret",
    "env",
    "name",
    "count",
    "image",
    "network",
    "&a",
    "*a",
    "<<",
    "!!binary",
    "- ",
    ": ",
    "{",
    "}",
    "[",
    "]",
    "\n",
    "  ",
    "\"",
    "'",
    "|",
    ">",
    "#",
    "0",
    "1.0.0",
    "~",
    "null",
    "true",
    ",",
    "?",
    "%YAML 1.2",
    "---",
    "...",
];

proptest! {
    // 400 cases in CI; PROPTEST_CASES raises it for a longer fuzz run (docs/reliability.md).
    #![proptest_config(ProptestConfig {
        cases: std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(400),
        ..ProptestConfig::default()
    })]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        let text = String::from_utf8_lossy(&bytes);
        let _ = parse_file(0, &text);
    }

    #[test]
    fn yaml_ish_strings_never_panic(parts in proptest::collection::vec(proptest::sample::select(KEYS), 0..80)) {
        let text: String = parts.concat();
        if let Err(d) = parse_file(0, &text) {
            prop_assert_eq!(d.code, Code::Parse);
            // Every refusal says where (the CLI prints file:line:col from it), and the position
            // points inside the text so snippets can be drawn.
            let loc = d.loc.expect("a parse error without a position");
            prop_assert!(loc.line >= 1 && loc.col >= 1, "{:?}", loc);
            prop_assert!(loc.offset <= text.len());
        }
    }
}

#[test]
fn a_large_honest_manifest_fits_the_budget() {
    // 1000 VMs written out one by one: far more than a real workspace file.
    let mut text = String::from("virtual_machines:\n");
    for i in 0..1000 {
        text.push_str(&format!(
            "  vm{i}:\n    resource_group: rg\n    size: Standard_D2s_v5\n    image: g/i/1.0.0\n    \
             admin_username: azureuser\n    ssh_public_key: ssh-ed25519 AAAA k\n    \
             network: {{ subnet: app/default, public_ip: true }}\n    tags: {{ team: a, env: b }}\n"
        ));
    }
    let m = parse_file(0, &text).unwrap_or_else(|d| panic!("{}", d.message));
    assert_eq!(m.virtual_machines.len(), 1000);
}

#[cfg(unix)]
#[test]
fn an_endless_device_is_refused_without_reading_it_all() {
    let start = Instant::now();
    let (_, m, diags) = load(std::path::Path::new("/dev/zero"));
    assert!(start.elapsed() < Duration::from_secs(5));
    assert!(m.is_none());
    assert_eq!(diags[0].code, Code::FileTooLarge, "{:?}", diags[0]);
}
