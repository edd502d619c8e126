//! How fast `ramp scan` reads a source tree: generates a tree of N files (default 100,000) in
//! a temporary directory, in the scanned languages, one file in ten naming a flag, plus an
//! ignored folder, then times three scans and prints the best as files per second.
//!
//! `cargo run --release -p ramp-scan --example scan_bench [-- FILES]`

use std::fmt::Write as _;
use std::time::Instant;

use ramp_scan::{Config, Scanner};

fn main() {
    let files: usize = std::env::args()
        .nth(1)
        .and_then(|text| text.parse().ok())
        .unwrap_or(100_000);
    let directory = tempfile::tempdir().expect("a temporary directory");
    let root = directory.path();
    let extensions = ["rs", "rb", "ts", "py", "go", "java"];
    let calls = [
        "client.is_active(\"flag-{n}\", &user)",
        "$rollout.active?(:flag_{n}, user)",
        "await client.getBooleanValue('flag-{n}', false)",
        "client.get_boolean_value(\"flag-{n}\", False)",
        "client.BooleanValue(ctx, \"flag-{n}\", false, ec)",
        "client.getBooleanValue(\"flag-{n}\", false)",
    ];
    let started = Instant::now();
    for index in 0..files {
        let folder = root.join(format!("module{}", index % 200));
        if index < 200 {
            std::fs::create_dir_all(&folder).expect("a folder");
        }
        let kind = index % extensions.len();
        let mut text = String::with_capacity(2_048);
        for line in 0..40 {
            let _ = writeln!(
                text,
                "    let value_{line} = compute({line}, \"text\"); // ordinary code"
            );
        }
        if index % 10 == 0 {
            let _ = writeln!(
                text,
                "    if {} {{ }}",
                calls[kind].replace("{n}", &(index % 500).to_string())
            );
        }
        std::fs::write(
            folder.join(format!("file{index}.{}", extensions[kind])),
            text,
        )
        .expect("a file");
    }
    std::fs::write(root.join(".gitignore"), "module0/\n").expect(".gitignore");
    eprintln!(
        "generated {files} files in {:.1} s",
        started.elapsed().as_secs_f64()
    );

    let scanner = Scanner::new(Config::default()).expect("the built-in patterns");
    let mut best = f64::MAX;
    let mut result = None;
    for _ in 0..3 {
        let started = Instant::now();
        let found = scanner.scan(&[root]).expect("the scan");
        best = best.min(started.elapsed().as_secs_f64());
        result = Some(found);
    }
    let result = result.expect("three scans ran");
    println!(
        "scanned {} files ({} references) in {:.3} s: {:.0} files/s on {} threads",
        result.files_scanned,
        result.references.len(),
        best,
        result.files_scanned as f64 / best,
        std::thread::available_parallelism().map_or(1, usize::from)
    );
}
