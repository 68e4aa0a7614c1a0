//! `explain --format html` opened in a real headless browser (Debian's Chromium,
//! which tests/run installs): the page renders without console errors, needs
//! nothing from the network, and its icicle has one box per plan node, each
//! linked to the node's row in the tree.

mod common;

use common::{pgadvise, stderr, stdout};
use std::path::{Path, PathBuf};
use std::process::Command;

fn chromium() -> PathBuf {
    let path = PathBuf::from(std::env::var("PGADVISE_TEST_CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into()));
    assert!(path.exists(), "{} is missing: run tests/run, which installs Debian's chromium", path.display());
    path
}

fn fixture(relative: &str) -> String {
    format!("{}/fixtures/{relative}", env!("CARGO_MANIFEST_DIR"))
}

/// Runs headless Chromium on `page` with `args`; returns stdout and the console lines it logged.
fn browse(page: &Path, args: &[&str]) -> (String, Vec<String>) {
    static RUNS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let run = RUNS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let profile = std::env::temp_dir().join(format!("pgadvise-chromium-{}-{run}", std::process::id()));
    let output = Command::new(chromium())
        .args(["--headless", "--no-sandbox", "--disable-gpu", "--enable-logging=stderr", "--v=0", "--window-size=1300,900"])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(args)
        .arg(format!("file://{}", page.display()))
        .output()
        .expect("chromium runs");
    let _ = std::fs::remove_dir_all(&profile);
    assert!(output.status.success(), "chromium failed: {}", String::from_utf8_lossy(&output.stderr));
    let console = String::from_utf8_lossy(&output.stderr)
        .lines()
        .filter(|l| l.contains("CONSOLE") || l.contains("Uncaught"))
        .map(str::to_string)
        .collect();
    (String::from_utf8_lossy(&output.stdout).to_string(), console)
}

fn nodes_in(plan: &str) -> usize {
    let output = pgadvise(&["explain", plan, "--format", "json"]);
    let report: serde_json::Value = serde_json::from_str(&stdout(&output)).unwrap();
    fn count(node: &serde_json::Value) -> usize {
        1 + node["children"].as_array().map_or(0, |c| c.iter().map(count).sum())
    }
    report["statements"].as_array().unwrap().iter().map(|s| count(&s["plan"]["root"])).sum()
}

#[test]
fn the_html_page_renders_one_box_per_node_and_links_them() {
    // A parallel plan, 18's text format with a CTE and nested InitPlans, and a plan of many nodes.
    for plan in [fixture("plans/joe__2.json"), fixture("explain/pg18_text_verbose.txt"), fixture("plans/joe__44.json")] {
        let output = pgadvise(&["explain", &plan, "--format", "html"]);
        assert!(output.status.success(), "{}", stderr(&output));
        let html = stdout(&output);
        // Self-contained: the only address in it is the SVG namespace.
        assert_eq!(html.matches("http").count(), html.matches("http://www.w3.org/2000/svg").count(), "{plan}: nothing from the network");
        let page = std::env::temp_dir().join(format!(
            "pgadvise-{}-{}.html",
            std::process::id(),
            Path::new(&plan).file_stem().unwrap().to_string_lossy()
        ));
        std::fs::write(&page, &html).unwrap();
        let (dom, console) = browse(&page, &["--dump-dom"]);
        assert!(console.is_empty(), "{plan}: console messages: {console:?}");
        let boxes = dom.matches("<g class=\"node\"").count();
        assert_eq!(boxes, nodes_in(&plan), "{plan}: one box per node");
        // Every box links to a row of the tree that exists.
        for id in 1..=boxes {
            assert!(dom.contains(&format!("href=\"#s0-node-{id}\"")) && dom.contains(&format!("id=\"s0-node-{id}\"")), "{plan}: node {id}");
        }
        std::fs::remove_file(&page).unwrap();
    }
}

#[test]
fn a_screenshot_of_the_page_is_a_picture() {
    let plan = fixture("explain/pg18_text_verbose.txt");
    let output = pgadvise(&["explain", &plan, "--format", "html"]);
    let page = std::env::temp_dir().join(format!("pgadvise-shot-{}.html", std::process::id()));
    std::fs::write(&page, stdout(&output)).unwrap();
    let shot = std::env::temp_dir().join(format!("pgadvise-shot-{}.png", std::process::id()));
    let (_, console) = browse(&page, &[&format!("--screenshot={}", shot.display())]);
    assert!(console.is_empty(), "{console:?}");
    let png = std::fs::read(&shot).unwrap();
    assert!(png.starts_with(b"\x89PNG") && png.len() > 10_000, "a PNG of the rendered page ({} bytes)", png.len());
    std::fs::remove_file(&page).unwrap();
    std::fs::remove_file(&shot).unwrap();
}

#[test]
fn the_svg_alone_has_one_box_per_node() {
    let plan = fixture("plans/joe__2.json");
    let output = pgadvise(&["explain", &plan, "--format", "svg"]);
    assert!(output.status.success(), "{}", stderr(&output));
    let svg = stdout(&output);
    assert!(svg.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\""), "{svg}");
    assert_eq!(svg.matches("<rect").count(), nodes_in(&plan));
    assert!(!svg.contains("<a "), "no links to a tree that is not there");
}
