//! Runs a fuzz target over saved inputs without libFuzzer, so the targets can be smoke-run on
//! stable Rust and a crash that `cargo fuzz` found can be replayed under a debugger.
//!
//! Usage: `replay TARGET PATH...` (each PATH a file or a directory, read recursively), or
//! `replay all DIR` to run every target over `DIR/<target>/`.

use std::path::Path;
use std::process::ExitCode;

use quakelab_fuzz::{TARGETS, Target, replay};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let names: Vec<&str> = TARGETS.iter().map(|(name, _)| *name).collect();
    let Some((target, paths)) = args.split_first() else {
        eprintln!("usage: replay TARGET PATH... | replay all DIR (targets: {names:?})");
        return ExitCode::FAILURE;
    };
    let runs: Vec<(&str, Target, std::path::PathBuf)> = if target == "all" {
        let Some(dir) = paths.first() else {
            eprintln!("usage: replay all DIR");
            return ExitCode::FAILURE;
        };
        TARGETS
            .iter()
            .map(|&(name, f)| (name, f, Path::new(dir).join(name)))
            .collect()
    } else {
        let Some(&(name, f)) = TARGETS.iter().find(|(name, _)| name == target) else {
            eprintln!("unknown target `{target}` (targets: {names:?})");
            return ExitCode::FAILURE;
        };
        paths.iter().map(|p| (name, f, p.into())).collect()
    };
    for (name, f, path) in runs {
        match replay(f, &path) {
            Ok(count) => println!("{name}: {count} inputs from {} ran", path.display()),
            Err(e) => {
                eprintln!("{name}: {}: {e}", path.display());
                return ExitCode::FAILURE;
            }
        }
    }
    ExitCode::SUCCESS
}
