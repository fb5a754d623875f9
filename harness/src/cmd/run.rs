//! `ktrial run PATH...`: finds scenario files, checks them, and runs them.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use ktrial_harness::scenario::load_file;

/// Arguments of `ktrial run`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Scenario files, or folders searched for `*.toml` scenario files.
    #[arg(required = true)]
    paths: Vec<PathBuf>,
}

/// Runs `ktrial run`.
pub fn main(args: Args) -> ExitCode {
    let paths = &args.paths;
    let mut found = Vec::new();
    for path in paths {
        if let Err(e) = collect_scenarios(path, &mut found) {
            eprintln!("ktrial: {}: {e}", path.display());
            return ExitCode::from(2);
        }
    }
    if found.is_empty() {
        println!("no scenarios found under {}", display_paths(paths));
        return ExitCode::SUCCESS;
    }
    let mut refused = 0;
    for file in &found {
        match load_file(file) {
            Ok(scenario) => println!("checked  {:<48} {}", scenario.name, scenario.description),
            Err(e) => {
                eprintln!("ktrial: {e}");
                refused += 1;
            }
        }
    }
    println!(
        "{} scenario file(s) checked, {refused} refused; the simulation runner is not built yet, so none ran",
        found.len()
    );
    if refused > 0 {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}

fn collect_scenarios(path: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    if path.is_dir() {
        let mut entries = std::fs::read_dir(path)?
            .map(|e| e.map(|e| e.path()))
            .collect::<Result<Vec<_>, _>>()?;
        entries.sort();
        for entry in entries {
            collect_scenarios(&entry, out)?;
        }
    } else if path.extension().is_some_and(|ext| ext == "toml") {
        out.push(path.to_path_buf());
    } else if !path.exists() {
        return Err(std::io::Error::new(
            std::io::ErrorKind::NotFound,
            "no such file or folder",
        ));
    }
    Ok(())
}

fn display_paths(paths: &[PathBuf]) -> String {
    paths
        .iter()
        .map(|p| p.display().to_string())
        .collect::<Vec<_>>()
        .join(", ")
}
