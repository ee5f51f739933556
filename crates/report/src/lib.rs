//! Charts and reports: aggregates against limits over time, as SVG, and a
//! self-contained HTML page (no scripts, no external fonts or CDNs).
#![forbid(unsafe_code)]

pub mod charts;
pub mod figure;
pub mod progress;
pub mod table;
pub mod text;

/// Prints JSON (pretty) to standard output.
pub fn print_json<T: serde::Serialize>(v: &T) -> std::io::Result<()> {
    use std::io::Write as _;
    let mut out = std::io::stdout().lock();
    serde_json::to_writer_pretty(&mut out, v)?;
    writeln!(out)
}

use chrono::{Datelike, NaiveDate};
use plotters::prelude::*;
use std::fmt::Write as _;

/// One line on a chart: a party's values of one limit over time. `None` is a
/// gap (an unconfirmed or unprovided number), never zero.
#[derive(Debug, Clone)]
pub struct Series {
    /// Legend label (the party).
    pub label: String,
    /// Limit id (which panel).
    pub limit: String,
    /// Points.
    pub points: Vec<(NaiveDate, Option<u64>)>,
}

/// A panel: one limit.
#[derive(Debug, Clone)]
pub struct Panel {
    /// Limit id.
    pub limit: String,
    /// Title.
    pub title: String,
    /// Maximum, drawn from `binding_from` on.
    pub max: Option<u64>,
    /// First day it binds.
    pub binding_from: NaiveDate,
    /// First day it no longer binds (drawn to the chart's end when `None`).
    pub binding_until: Option<NaiveDate>,
}

fn year_frac(d: NaiveDate) -> f64 {
    f64::from(d.year()) + f64::from(d.ordinal0()) / 365.25
}

const COLORS: [RGBColor; 8] = [
    RGBColor(31, 119, 180),
    RGBColor(214, 39, 40),
    RGBColor(44, 160, 44),
    RGBColor(148, 103, 189),
    RGBColor(255, 127, 14),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(23, 190, 207),
];

/// Draws one panel per limit, stacked, each with every series for that limit
/// and the limit as a dashed line from the day it binds. Returns SVG text.
pub fn aggregates_svg(
    title: &str,
    panels: &[Panel],
    series: &[Series],
    note: &str,
) -> Result<String, String> {
    let (w, ph) = (900u32, 250u32);
    let h = 40 + ph * panels.len() as u32 + 24;
    let mut buf = String::new();
    {
        let root = SVGBackend::with_string(&mut buf, (w, h)).into_drawing_area();
        root.fill(&WHITE).map_err(|e| e.to_string())?;
        let (head, rest) = root.split_vertically(40);
        head.draw_text(
            title,
            &("sans-serif", 20).into_font().color(&BLACK),
            (10, 10),
        )
        .map_err(|e| e.to_string())?;
        let (body, foot) = rest.split_vertically(ph * panels.len() as u32);
        foot.draw_text(
            note,
            &("sans-serif", 12).into_font().color(&RGBColor(90, 90, 90)),
            (10, 4),
        )
        .map_err(|e| e.to_string())?;
        let areas = body.split_evenly((panels.len(), 1));
        let all_dates: Vec<NaiveDate> = series
            .iter()
            .flat_map(|s| s.points.iter().map(|p| p.0))
            .collect();
        let (Some(&d0), Some(&d1)) = (all_dates.iter().min(), all_dates.iter().max()) else {
            return Err("nothing to plot".into());
        };
        let (x0, x1) = (year_frac(d0) - 0.2, year_frac(d1) + 0.2);
        // Under three years, label months rather than years.
        let short = x1 - x0 < 3.0;
        for (panel, area) in panels.iter().zip(areas) {
            let lines: Vec<&Series> = series.iter().filter(|s| s.limit == panel.limit).collect();
            let top = lines
                .iter()
                .flat_map(|s| s.points.iter().filter_map(|p| p.1))
                .chain(panel.max)
                .max()
                .unwrap_or(1) as f64;
            let bottom = lines
                .iter()
                .flat_map(|s| s.points.iter().filter_map(|p| p.1))
                .chain(panel.max)
                .min()
                .unwrap_or(0) as f64;
            // Headroom above the data for the legend, so it never hides a point.
            let span = (top - bottom).max(20.0);
            // The data keeps to the lower 55% of the panel; the legend sits above it.
            let pad_lo = span * 0.15;
            let pad_hi = (span + pad_lo) / 0.55 - span - pad_lo;
            let mut chart = ChartBuilder::on(&area)
                .caption(&panel.title, ("sans-serif", 15))
                .margin(8)
                .x_label_area_size(28)
                .y_label_area_size(55)
                .build_cartesian_2d(x0..x1, (bottom - pad_lo).max(0.0)..top + pad_hi)
                .map_err(|e| e.to_string())?;
            chart
                .configure_mesh()
                .x_labels(if short {
                    8
                } else {
                    ((x1 - x0).ceil() as usize).clamp(2, 14)
                })
                .x_label_formatter(&|x| {
                    if short {
                        let month = ((x - x.floor()) * 12.0).floor() as u32 + 1;
                        format!("{:.0}-{month:02}", x.floor())
                    } else {
                        format!("{:.0}", x.floor())
                    }
                })
                .y_label_formatter(&|y| format!("{y:.0}"))
                .light_line_style(RGBColor(235, 235, 235))
                .draw()
                .map_err(|e| e.to_string())?;
            if let Some(max) = panel.max {
                let from = year_frac(panel.binding_from).max(x0);
                let until = panel.binding_until.map_or(x1, |u| year_frac(u).min(x1));
                if from < until {
                    chart
                        .draw_series(DashedLineSeries::new(
                            vec![(from, max as f64), (until, max as f64)],
                            6,
                            4,
                            ShapeStyle::from(&BLACK).stroke_width(2),
                        ))
                        .map_err(|e| e.to_string())?
                        .label(match panel.binding_until {
                            Some(u) => format!("limit {max} ({} to {u})", panel.binding_from),
                            None => format!("limit {max} (binding from {})", panel.binding_from),
                        })
                        .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 16, y)], BLACK));
                }
            }
            for (i, s) in lines.iter().enumerate() {
                let color = COLORS[i % COLORS.len()];
                // Gaps stay gaps: one line segment per run of known values.
                let mut runs: Vec<Vec<(f64, f64)>> = vec![vec![]];
                for (d, v) in &s.points {
                    match v {
                        Some(v) => runs
                            .last_mut()
                            .map(|r| r.push((year_frac(*d), *v as f64)))
                            .unwrap_or(()),
                        None => runs.push(vec![]),
                    }
                }
                for (k, run) in runs.into_iter().filter(|r| !r.is_empty()).enumerate() {
                    let pts = run.clone();
                    let drawn = chart
                        .draw_series(LineSeries::new(run, color.stroke_width(2)))
                        .map_err(|e| e.to_string())?;
                    if k == 0 {
                        drawn.label(s.label.clone()).legend(move |(x, y)| {
                            PathElement::new(vec![(x, y), (x + 16, y)], color.stroke_width(2))
                        });
                    }
                    chart
                        .draw_series(pts.into_iter().map(|p| Circle::new(p, 3, color.filled())))
                        .map_err(|e| e.to_string())?;
                }
            }
            chart
                .configure_series_labels()
                .position(SeriesLabelPosition::UpperRight)
                .background_style(WHITE.mix(0.85))
                .border_style(RGBColor(200, 200, 200))
                .label_font(("sans-serif", 12))
                .draw()
                .map_err(|e| e.to_string())?;
        }
        root.present().map_err(|e| e.to_string())?;
    }
    Ok(buf)
}

/// Escapes text for HTML.
pub fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// A simple self-contained HTML page builder.
#[derive(Debug, Default)]
pub struct Html {
    body: String,
}

impl Html {
    /// A heading.
    pub fn h(&mut self, level: u8, text: &str) -> &mut Self {
        let _ = writeln!(self.body, "<h{level}>{}</h{level}>", esc(text));
        self
    }
    /// A paragraph of plain text.
    pub fn p(&mut self, text: &str) -> &mut Self {
        let _ = writeln!(self.body, "<p>{}</p>", esc(text));
        self
    }
    /// A warning banner (used for SYNTHETIC).
    pub fn banner(&mut self, text: &str) -> &mut Self {
        let _ = writeln!(self.body, "<p class=\"banner\">{}</p>", esc(text));
        self
    }
    /// A table; cells are escaped.
    pub fn table(&mut self, head: &[&str], rows: &[Vec<String>]) -> &mut Self {
        self.body.push_str("<table><thead><tr>");
        for h in head {
            let _ = write!(self.body, "<th>{}</th>", esc(h));
        }
        self.body.push_str("</tr></thead><tbody>\n");
        for r in rows {
            let class = if r
                .iter()
                .any(|c| c.contains("EXCEEDED") || c.contains("finding"))
            {
                " class=\"bad\""
            } else {
                ""
            };
            let _ = write!(self.body, "<tr{class}>");
            for c in r {
                let _ = write!(self.body, "<td>{}</td>", esc(c));
            }
            self.body.push_str("</tr>\n");
        }
        self.body.push_str("</tbody></table>\n");
        self
    }
    /// A list.
    pub fn list(&mut self, items: &[String]) -> &mut Self {
        self.body.push_str("<ul>\n");
        for i in items {
            let _ = writeln!(self.body, "<li>{}</li>", esc(i));
        }
        self.body.push_str("</ul>\n");
        self
    }
    /// Inline SVG (trusted: made by [`aggregates_svg`]).
    pub fn svg(&mut self, svg: &str) -> &mut Self {
        let _ = writeln!(self.body, "<figure>{svg}</figure>");
        self
    }
    /// The whole page.
    pub fn page(&self, title: &str) -> String {
        format!(
            "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{}</title>\n<style>\n\
             body{{font-family:sans-serif;max-width:960px;margin:2em auto;color:#222;line-height:1.4}}\n\
             table{{border-collapse:collapse;margin:1em 0}} th,td{{border:1px solid #ccc;padding:4px 8px;text-align:right}}\n\
             th{{background:#f3f3f3}} td:first-child,th:first-child{{text-align:left}} tr.bad td{{background:#fde8e8}}\n\
             .banner{{background:#fff4d6;border:1px solid #e0b84c;padding:8px}} figure{{margin:1em 0}} figure svg{{max-width:100%;height:auto}}\n\
             table{{font-size:0.9em}} td{{word-break:break-word}}\n\
             </style></head><body>\n{}</body></html>\n",
            esc(title),
            self.body
        )
    }
}

/// A horizontal bar chart (e.g. a plan's site probabilities). Returns SVG text.
pub fn bars_svg(
    title: &str,
    bars: &[(String, f64)],
    x_label: &str,
    note: &str,
) -> Result<String, String> {
    let (w, h) = (900u32, 90 + 28 * bars.len().max(1) as u32);
    let mut buf = String::new();
    {
        let root = SVGBackend::with_string(&mut buf, (w, h)).into_drawing_area();
        root.fill(&WHITE).map_err(|e| e.to_string())?;
        let (body, foot) = root.split_vertically(h - 22);
        foot.draw_text(
            note,
            &("sans-serif", 12).into_font().color(&RGBColor(90, 90, 90)),
            (10, 4),
        )
        .map_err(|e| e.to_string())?;
        let top = bars.iter().map(|b| b.1).fold(0.0f64, f64::max).max(1e-9) * 1.1;
        let n = bars.len().max(1) as i32;
        // A categorical axis: one segment a bar, labelled at its centre.
        let mut chart = ChartBuilder::on(&body)
            .caption(title, ("sans-serif", 18))
            .margin(10)
            .x_label_area_size(30)
            .y_label_area_size(170)
            .build_cartesian_2d(0.0..top, (0..n).into_segmented())
            .map_err(|e| e.to_string())?;
        let labels: Vec<String> = bars.iter().map(|b| b.0.clone()).collect();
        chart
            .configure_mesh()
            .disable_y_mesh()
            .y_labels(n as usize)
            .y_label_formatter(&|y| match y {
                SegmentValue::CenterOf(i) => labels
                    .get((n - 1 - *i) as usize)
                    .cloned()
                    .unwrap_or_default(),
                _ => String::new(),
            })
            .x_desc(x_label)
            .x_label_formatter(&|x| format!("{x:.2}"))
            .light_line_style(RGBColor(235, 235, 235))
            .draw()
            .map_err(|e| e.to_string())?;
        chart
            .draw_series(bars.iter().enumerate().map(|(i, (_, v))| {
                let y = n - 1 - i as i32;
                let mut r = Rectangle::new(
                    [
                        (0.0, SegmentValue::Exact(y)),
                        (*v, SegmentValue::Exact(y + 1)),
                    ],
                    COLORS[0].filled(),
                );
                r.set_margin(4, 4, 0, 0);
                r
            }))
            .map_err(|e| e.to_string())?;
        root.present().map_err(|e| e.to_string())?;
    }
    Ok(buf)
}

/// A chart of curves `y(x)` in [0, 1] (e.g. detection probability against
/// inspections spent). Returns SVG text.
pub fn curves_svg(
    title: &str,
    x_label: &str,
    y_label: &str,
    curves: &[(String, Vec<(f64, f64)>)],
    note: &str,
) -> Result<String, String> {
    let (w, h) = (900u32, 480u32);
    let mut buf = String::new();
    {
        let root = SVGBackend::with_string(&mut buf, (w, h)).into_drawing_area();
        root.fill(&WHITE).map_err(|e| e.to_string())?;
        let (body, foot) = root.split_vertically(h - 22);
        foot.draw_text(
            note,
            &("sans-serif", 12).into_font().color(&RGBColor(90, 90, 90)),
            (10, 4),
        )
        .map_err(|e| e.to_string())?;
        let xmax = curves
            .iter()
            .flat_map(|c| c.1.iter().map(|p| p.0))
            .fold(1.0f64, f64::max);
        let mut chart = ChartBuilder::on(&body)
            .caption(title, ("sans-serif", 18))
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(60)
            .build_cartesian_2d(0.0..xmax, 0.0..1.05)
            .map_err(|e| e.to_string())?;
        chart
            .configure_mesh()
            .x_desc(x_label)
            .y_desc(y_label)
            .x_label_formatter(&|x| format!("{x:.0}"))
            .y_label_formatter(&|y| format!("{y:.1}"))
            .light_line_style(RGBColor(235, 235, 235))
            .draw()
            .map_err(|e| e.to_string())?;
        for (i, (label, pts)) in curves.iter().enumerate() {
            let color = COLORS[i % COLORS.len()];
            chart
                .draw_series(LineSeries::new(pts.clone(), color.stroke_width(2)))
                .map_err(|e| e.to_string())?
                .label(label.clone())
                .legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 16, y)], color.stroke_width(2))
                });
            chart
                .draw_series(pts.iter().map(|&p| Circle::new(p, 3, color.filled())))
                .map_err(|e| e.to_string())?;
        }
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperLeft)
            .background_style(WHITE.mix(0.85))
            .border_style(RGBColor(200, 200, 200))
            .label_font(("sans-serif", 12))
            .draw()
            .map_err(|e| e.to_string())?;
        root.present().map_err(|e| e.to_string())?;
    }
    Ok(buf)
}
