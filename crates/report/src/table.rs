//! Plain-text tables for human output: the command line's and the demo's.

/// Renders rows under a header, columns aligned; numbers right-aligned.
pub fn render(head: &[&str], rows: &[Vec<String>]) -> String {
    let n = head.len();
    let mut width: Vec<usize> = head.iter().map(|h| h.chars().count()).collect();
    for r in rows {
        for (i, c) in r.iter().enumerate().take(n) {
            width[i] = width[i].max(c.chars().count());
        }
    }
    let numeric = |i: usize| {
        rows.iter().all(|r| {
            r.get(i).is_none_or(|c| {
                c.chars()
                    .next()
                    .is_none_or(|ch| ch.is_ascii_digit() || ch == '-')
            })
        })
    };
    let align: Vec<bool> = (0..n).map(numeric).collect();
    let line = |cells: Vec<&str>| {
        let mut s = String::from("  ");
        for (i, c) in cells.iter().enumerate() {
            let pad = width[i].saturating_sub(c.chars().count());
            if align[i] && i > 0 {
                s.push_str(&" ".repeat(pad));
                s.push_str(c);
            } else {
                s.push_str(c);
                s.push_str(&" ".repeat(pad));
            }
            if i + 1 < cells.len() {
                s.push_str("  ");
            }
        }
        s.trim_end().to_string()
    };
    let mut out = line(head.to_vec());
    out.push('\n');
    out.push_str(&line(
        width
            .iter()
            .map(|w| "─".repeat(*w))
            .collect::<Vec<_>>()
            .iter()
            .map(String::as_str)
            .collect(),
    ));
    out.push('\n');
    for r in rows {
        out.push_str(&line(r.iter().map(String::as_str).collect()));
        out.push('\n');
    }
    out
}

/// `value / max`, or `value (no limit)`.
pub fn against(value: u64, max: Option<u64>) -> String {
    match max {
        Some(m) => format!("{value} / {m}"),
        None => value.to_string(),
    }
}

/// Findings as lines, each `[kind] date: message`, under a count (or
/// `findings: none`), every line starting with `indent`.
pub fn findings(indent: &str, findings: &[accord_registry::Finding]) -> String {
    let mut out = String::new();
    if findings.is_empty() {
        out.push_str(&format!("{indent}findings: none\n"));
    } else {
        out.push_str(&format!("{indent}findings: {}\n", findings.len()));
        for f in findings {
            out.push_str(&format!(
                "{indent}  [{}] {}: {}\n",
                f.kind, f.date, f.message
            ));
        }
    }
    out
}
