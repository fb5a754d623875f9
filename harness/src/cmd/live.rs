//! `ktrial run --client NAME`: every scenario against a real client's driver, in real time,
//! `--repeat N` times, with a row per scenario and client giving each property's violation
//! rate; failing runs kept under `--keep DIR` for `ktrial replay`.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use ktrial_harness::Scenario;
use ktrial_harness::live::{Driver, LiveRun, PropertyRate, Repeated, run_live};
use ktrial_harness::timeline;

use super::run::Args;

/// Runs `scenarios` against the clients of `spec`, as `args` say.
pub fn main(args: &Args, spec: &str, scenarios: &[Scenario]) -> ExitCode {
    let drivers_dir = drivers_dir(args.drivers.as_deref());
    let drivers = match Driver::resolve_all(spec, &drivers_dir) {
        Ok(drivers) => drivers,
        Err(e) => {
            eprintln!("ktrial: {e}");
            return ExitCode::from(2);
        }
    };
    if !args.json {
        println!(
            "real time against real clients: runs are not deterministic; each property shows how many of {} run(s) violated it",
            args.repeat
        );
        println!(
            "{:<46} {:<12} {:>4}  properties (violated/runs)",
            "scenario", "client", "runs"
        );
    }
    let mut failed = 0;
    let mut total = 0;
    for scenario in scenarios {
        for driver in &drivers {
            total += 1;
            let seed = args.seed.unwrap_or(scenario.seed);
            let mut runs = Vec::new();
            for n in 0..args.repeat {
                match run_live(scenario, seed, driver) {
                    Ok(run) => {
                        if let Some(dir) = &args.keep
                            && !run.passed()
                            && let Err(e) = keep(dir, scenario, &run, n)
                        {
                            eprintln!("ktrial: keeping run {n}: {e}");
                        }
                        runs.push(run);
                    }
                    Err(e) => {
                        eprintln!("ktrial: {} against {}: {e}", scenario.name, driver.name);
                        return ExitCode::from(2);
                    }
                }
            }
            let repeated = Repeated { runs };
            if !repeated.passed() {
                failed += 1;
            }
            if args.json {
                println!("{}", json_line(scenario, driver, &repeated));
            } else {
                print_row(scenario, driver, &repeated);
            }
        }
    }
    if !args.json {
        println!(
            "scenarios × clients: {} passed, {failed} failed",
            total - failed
        );
    }
    if failed > 0 {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}

/// `--drivers`, else `$KTRIAL_DRIVERS`, else `./drivers`, else the repository's `drivers/` two
/// folders above this program (`target/release/ktrial`).
pub(super) fn drivers_dir(given: Option<&Path>) -> PathBuf {
    if let Some(dir) = given {
        return dir.to_path_buf();
    }
    if let Some(dir) = std::env::var_os("KTRIAL_DRIVERS") {
        return PathBuf::from(dir);
    }
    let here = PathBuf::from("drivers");
    if here.is_dir() {
        return here;
    }
    std::env::current_exe()
        .ok()
        .and_then(|exe| Some(exe.parent()?.parent()?.parent()?.join("drivers")))
        .unwrap_or(here)
}

fn rate_text(rate: &PropertyRate) -> String {
    let mark = if rate.passed() { "" } else { " FAIL" };
    let expected = match rate.expected {
        ktrial_harness::Expect::Holds => "holds",
        ktrial_harness::Expect::Violated => "violated",
        ktrial_harness::Expect::Ignored => "ignored",
    };
    format!(
        "{}={}/{} (expected {expected}){mark}",
        rate.property, rate.violated, rate.runs
    )
}

fn print_row(scenario: &Scenario, driver: &Driver, repeated: &Repeated) {
    let rates: Vec<String> = repeated.rates().iter().map(rate_text).collect();
    let verdict = if repeated.passed() { "pass" } else { "FAIL" };
    println!(
        "{:<46} {:<12} {:>4}  {verdict}  {}",
        scenario.name,
        driver.name,
        repeated.runs.len(),
        rates.join("  ")
    );
    if let Some(differs) = scenario.expect.clients.get(&driver.name) {
        let without = if differs.without.is_empty() {
            String::new()
        } else {
            format!(" (run without {})", differs.without.join(", "))
        };
        println!(
            "    expected for {}{without}: {}",
            driver.name, differs.reason
        );
    }
    for rate in repeated.rates().iter().filter(|r| !r.passed()) {
        let detail = if rate.detail.is_empty() {
            "never shown in any run"
        } else {
            &rate.detail
        };
        println!("    {}: {detail}", rate.property);
    }
    for failure in repeated.driver_failures() {
        println!("    driver failed: {failure}");
    }
    for problem in repeated.problems() {
        println!("    problem: {problem}");
    }
}

fn json_line(scenario: &Scenario, driver: &Driver, repeated: &Repeated) -> String {
    let first = repeated.runs.first();
    serde_json::json!({
        "scenario": scenario.name,
        "client": driver.name,
        "client_version": first.map(|r| r.client_version.as_str()),
        "runs": repeated.runs.len(),
        "passed": repeated.passed(),
        "properties": repeated.rates(),
        "expectation_reason": first.and_then(|r| r.expectation_reason.as_deref()),
        "driver_failures": repeated.driver_failures(),
        "problems": repeated.problems(),
        "wall_ms": repeated.runs.iter().map(|r| r.report.simulated_ms).collect::<Vec<_>>(),
        "sent": repeated.runs.iter().map(|r| r.report.findings.sent).collect::<Vec<_>>(),
        "acked": repeated.runs.iter().map(|r| r.report.findings.acked).collect::<Vec<_>>(),
    })
    .to_string()
}

/// Writes a failing run under `dir/<scenario>-<client>-<n>/`: its text and HTML timelines, its
/// journal and its report.
fn keep(dir: &Path, scenario: &Scenario, run: &LiveRun, n: u32) -> std::io::Result<()> {
    let folder = dir.join(format!("{}-{}-{n}", scenario.name, run.client));
    std::fs::create_dir_all(&folder)?;
    std::fs::write(folder.join("timeline.txt"), timeline::text(&run.report))?;
    std::fs::write(
        folder.join("timeline.html"),
        timeline::html(&run.report, scenario.cluster.brokers),
    )?;
    let journal =
        serde_json::to_string_pretty(&run.report.journal).map_err(std::io::Error::other)?;
    std::fs::write(folder.join("journal.json"), journal)?;
    let report = serde_json::json!({
        "scenario": scenario.name,
        "client": run.client,
        "client_version": run.client_version,
        "driver_failure": run.driver_failure,
        "findings": run.report.findings,
        "verdicts": run.report.verdicts,
        "problems": run.report.problems,
        "wire": run.report.wire,
    });
    std::fs::write(
        folder.join("report.json"),
        serde_json::to_string_pretty(&report).map_err(std::io::Error::other)?,
    )?;
    eprintln!("kept {}", folder.display());
    Ok(())
}
