//! Where a plan's time goes, as a picture: an icicle of the node tree (the root
//! on top, each node's children below it), each box as wide as the node's
//! inclusive time, so the part of a box with nothing under it is the node's own
//! time. Without ANALYZE, widths are costs. Plain SVG (no script, no fonts to
//! fetch), for `--format svg` on its own and inside `--format html`.

use crate::plan::{Plan, PlanNode};
use crate::units::{format_count, format_ms};

/// Width of the drawing in SVG units, and the height of one level.
pub const WIDTH: f64 = 1200.0;
const ROW: f64 = 22.0;
/// Roughly how wide one character of the 12px label is.
const CHAR_WIDTH: f64 = 7.0;

/// One node's box.
struct Box {
    id: usize,
    x: f64,
    width: f64,
    depth: usize,
    label: String,
    tooltip: String,
    /// The node's own share of the statement: what the colour says.
    own_share: f64,
}

/// The SVG of one plan's icicle; `links` makes each box a link to `#node-{id}`.
pub fn svg(plan: &Plan, links: bool) -> String {
    let mut boxes = Vec::new();
    let total = weight(&plan.root, plan.analyzed).max(f64::MIN_POSITIVE);
    layout(&plan.root, plan, 0.0, WIDTH, 0, total, &mut boxes);
    let depth = boxes.iter().map(|b| b.depth).max().unwrap_or(0) + 1;
    let height = depth as f64 * ROW;
    let mut out = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"flame\" viewBox=\"0 0 {WIDTH} {height}\" width=\"{WIDTH}\" height=\"{height}\" font-family=\"sans-serif\" font-size=\"12\">\n"
    );
    for b in &boxes {
        let y = b.depth as f64 * ROW;
        let (open, close) = if links { (format!("<a href=\"#node-{}\">", b.id), "</a>") } else { (String::new(), "") };
        let fits = ((b.width - 6.0) / CHAR_WIDTH).floor().max(0.0) as usize;
        let text = if fits >= 4 { shorten(&b.label, fits) } else { String::new() };
        out.push_str(&format!(
            "{open}<g class=\"node\" data-node=\"{id}\"><title>{tooltip}</title><rect x=\"{x:.2}\" y=\"{y:.1}\" width=\"{w:.2}\" height=\"{h:.1}\" fill=\"{fill}\" stroke=\"#fff\" stroke-width=\"0.5\"/>",
            id = b.id,
            tooltip = escape(&b.tooltip),
            x = b.x,
            w = b.width,
            h = ROW - 1.0,
            fill = colour(b.own_share),
        ));
        if !text.is_empty() {
            out.push_str(&format!("<text x=\"{:.2}\" y=\"{:.1}\">{}</text>", b.x + 3.0, y + 15.0, escape(&text)));
        }
        out.push_str(&format!("</g>{close}\n"));
    }
    out.push_str("</svg>\n");
    out
}

/// Lays out `node` in [x, x + width) at `depth`, then its children left to right,
/// each as wide as its share of the node (scaled down together when they add up
/// to more than the node, as a CTE read twice or a parallel plan can).
fn layout(node: &PlanNode, plan: &Plan, x: f64, width: f64, depth: usize, total: f64, boxes: &mut Vec<Box>) {
    let analyzed = plan.analyzed;
    let own = if analyzed { node.exclusive_ms.unwrap_or(0.0) } else { own_cost(node) };
    let tooltip = if analyzed {
        format!(
            "#{} {}: {} own, {} with its children, {} rows",
            node.id,
            node.label(),
            format_ms(node.exclusive_ms.unwrap_or(0.0)),
            format_ms(node.inclusive_ms.unwrap_or(0.0)),
            format_count(node.total_actual_rows().unwrap_or(0.0))
        )
    } else {
        format!(
            "#{} {}: cost {:.2}, {} rows estimated",
            node.id,
            node.label(),
            node.total_cost.unwrap_or(0.0),
            format_count(node.plan_rows.unwrap_or(0.0))
        )
    };
    boxes.push(Box { id: node.id, x, width, depth, label: node.label(), tooltip, own_share: own / total });
    let node_weight = weight(node, analyzed);
    let children: Vec<f64> = node.children.iter().map(|c| weight(c, analyzed)).collect();
    let sum: f64 = children.iter().sum();
    let scale = if node_weight <= 0.0 || sum <= 0.0 { 0.0 } else { width / node_weight.max(sum) };
    let mut next = x;
    for (child, child_weight) in node.children.iter().zip(children) {
        let child_width = child_weight * scale;
        layout(child, plan, next, child_width, depth + 1, total, boxes);
        next += child_width;
    }
}

fn weight(node: &PlanNode, analyzed: bool) -> f64 {
    if analyzed {
        node.inclusive_ms.unwrap_or(0.0)
    } else {
        node.total_cost.unwrap_or(0.0)
    }
}

fn own_cost(node: &PlanNode) -> f64 {
    let children: f64 = node.children.iter().filter_map(|c| c.total_cost).sum();
    (node.total_cost.unwrap_or(0.0) - children).max(0.0)
}

/// Pale yellow for a node that takes nothing, to red for one that takes it all.
fn colour(own_share: f64) -> String {
    let share = own_share.clamp(0.0, 1.0).sqrt();
    let hue = 50.0 - 50.0 * share;
    let lightness = 80.0 - 30.0 * share;
    format!("hsl({hue:.0},90%,{lightness:.0}%)")
}

fn shorten(text: &str, chars: usize) -> String {
    if text.chars().count() <= chars {
        text.to_string()
    } else {
        format!("{}…", text.chars().take(chars.saturating_sub(1)).collect::<String>())
    }
}

/// Escapes text for XML and HTML.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c if (c as u32) < 0x20 && c != '\n' && c != '\t' => out.push('\u{fffd}'),
            c => out.push(c),
        }
    }
    out
}
