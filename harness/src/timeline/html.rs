//! The HTML timeline: one self-contained file (inline SVG and CSS, no scripts from elsewhere)
//! with a lane for the client and one per broker, an arrow per request and response, and marks
//! for faults, elections and truncations; lost and duplicated records are listed at the top.

use std::fmt::Write;

use ktrial_mockbroker::{Happening, JournalEntry};

use crate::sim::RunReport;

/// Rows drawn at most; a longer journal is cut, and the file says so.
const MAX_ROWS: usize = 5000;
const ROW: usize = 18;
const LANE: usize = 220;
const LEFT: usize = 90;

/// The HTML timeline of a run.
pub fn html(report: &RunReport, brokers: u32) -> String {
    let lanes = brokers as usize + 1;
    let rows: Vec<&JournalEntry> = report.journal.iter().take(MAX_ROWS).collect();
    let width = LEFT + LANE * lanes + 320;
    let height = ROW * (rows.len() + 3);
    let lane_x = |lane: usize| LEFT + LANE / 2 + LANE * lane;

    let mut svg = String::new();
    let _ = write!(
        svg,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" font-family="monospace" font-size="11">"#
    );
    for lane in 0..lanes {
        let x = lane_x(lane);
        let name = if lane == 0 {
            "client".to_string()
        } else {
            format!("broker{lane}")
        };
        let _ = write!(
            svg,
            r##"<text x="{x}" y="12" text-anchor="middle" font-weight="bold">{name}</text><line x1="{x}" y1="18" x2="{x}" y2="{height}" stroke="#bbb"/>"##
        );
    }
    for (i, entry) in rows.iter().enumerate() {
        let y = ROW * (i + 2);
        let _ = write!(
            svg,
            r##"<text x="4" y="{}" fill="#666">{} ms</text>"##,
            y + 4,
            entry.at_ms
        );
        let broker_x = entry
            .broker
            .map_or(lane_x(0), |b| lane_x(b.max(0) as usize));
        let client_x = lane_x(0);
        let (class, from, to) = match &entry.what {
            Happening::Request { .. } => ("request", client_x, broker_x),
            Happening::Response { .. } => ("response", broker_x, client_x),
            Happening::Fault { .. } | Happening::ResponseLost | Happening::Intercepted => {
                ("fault", broker_x, broker_x)
            }
            Happening::Closed { .. } => ("closed", broker_x, broker_x),
            Happening::Cluster { .. } => ("cluster", lane_x(1), lane_x(lanes - 1)),
        };
        if from == to {
            let _ = write!(
                svg,
                r#"<circle class="{class}" cx="{from}" cy="{y}" r="5"/>"#
            );
        } else {
            let _ = write!(
                svg,
                r#"<line class="{class}" x1="{from}" y1="{y}" x2="{to}" y2="{y}" marker-end="url(#arrow)"/>"#
            );
        }
        let _ = write!(
            svg,
            r#"<text class="{class}-text" x="{}" y="{}">{}</text>"#,
            LEFT + LANE * lanes,
            y + 4,
            escape(&entry.what.to_string())
        );
    }
    svg.push_str(
        r##"<defs><marker id="arrow" markerWidth="8" markerHeight="8" refX="8" refY="4" orient="auto"><path d="M0,0 L8,4 L0,8 z" fill="#555"/></marker></defs></svg>"##,
    );

    let f = &report.findings;
    let list = |ids: &[u64]| {
        if ids.is_empty() {
            "none".to_string()
        } else {
            ids.iter()
                .map(u64::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        }
    };
    let reordered: Vec<String> = f
        .reordered
        .iter()
        .map(|r| {
            format!(
                "record {} at partition {} offset {} after record {}",
                r.id, r.partition, r.offset, r.after_id
            )
        })
        .collect();
    let mut verdicts = String::new();
    for v in &report.verdicts {
        let _ = write!(
            verdicts,
            r#"<li class="{}">{} (expected {:?}): {}</li>"#,
            if v.passed() { "pass" } else { "fail" },
            v.property,
            v.expected,
            escape(&v.detail)
        );
    }
    let cut = if report.journal.len() > MAX_ROWS {
        format!(
            "<p>Showing the first {MAX_ROWS} of {} journal entries.</p>",
            report.journal.len()
        )
    } else {
        String::new()
    };
    format!(
        r#"<!doctype html>
<html><head><meta charset="utf-8"><title>ktrial timeline: {name}</title>
<style>
body {{ font-family: sans-serif; margin: 1em; }}
.lost, .fail {{ color: #b00; font-weight: bold; }}
.pass {{ color: #070; }}
line.request {{ stroke: #36c; }} line.response {{ stroke: #393; }}
circle.fault {{ fill: #e80; }} circle.closed {{ fill: #b00; }} line.cluster {{ stroke: #c0c; stroke-dasharray: 4 3; }}
.fault-text {{ fill: #e80; }} .closed-text {{ fill: #b00; }} .cluster-text {{ fill: #909; }}
</style></head><body>
<h1>{name}</h1>
<p>seed {seed} · journal {hash} · {sim} ms simulated · sent {sent}, acknowledged {acked}, failed {failed}</p>
<ul>{verdicts}</ul>
<p class="lost">Lost (acknowledged, not in the log): {lost}</p>
<p class="lost">Duplicated (stored more than once): {dup}</p>
<p class="lost">Reordered: {reordered}</p>
{cut}
{svg}
</body></html>
"#,
        name = escape(&report.scenario),
        seed = report.seed,
        hash = report.journal_hash,
        sim = report.simulated_ms,
        sent = f.sent,
        acked = f.acked,
        failed = f.failed,
        lost = list(&f.lost),
        dup = list(&f.duplicated),
        reordered = if reordered.is_empty() {
            "none".to_string()
        } else {
            escape(&reordered.join("; "))
        },
    )
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}
