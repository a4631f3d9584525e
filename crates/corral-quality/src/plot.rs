//! Alerts in vs incidents out over event time, as an SVG: the picture of what a correlator saves
//! an on-call engineer during a storm. Top panel: alert events received per bin; bottom panel:
//! incidents opened per bin by each strategy.

use plotters::prelude::*;
use std::path::Path;

/// A named series of event times (ms); the plot counts them per bin.
pub struct Series {
    pub name: String,
    pub times_ms: Vec<i64>,
}

fn bins(times: &[i64], start: i64, bin_ms: i64, n: usize) -> Vec<u64> {
    let mut out = vec![0u64; n];
    for &t in times {
        let i = ((t - start).max(0) / bin_ms) as usize;
        if let Some(slot) = out.get_mut(i.min(n - 1)) {
            *slot += 1;
        }
    }
    out
}

const PALETTE: [RGBColor; 4] = [
    RGBColor(0x1f, 0x77, 0xb4),
    RGBColor(0xd6, 0x27, 0x28),
    RGBColor(0x2c, 0xa0, 0x2c),
    RGBColor(0xff, 0x7f, 0x0e),
];

/// Writes the plot. `alerts_in` is every received event's time; `incidents_out` one series per
/// strategy with the time each incident opened.
pub fn storm_svg(
    path: &Path,
    title: &str,
    alerts_in: &Series,
    incidents_out: &[Series],
) -> Result<(), String> {
    let all = alerts_in
        .times_ms
        .iter()
        .chain(incidents_out.iter().flat_map(|s| s.times_ms.iter()));
    let (start, end) = all.fold((i64::MAX, i64::MIN), |(lo, hi), &t| (lo.min(t), hi.max(t)));
    if start > end {
        return Err("nothing to plot: no events".into());
    }
    // About 240 bins whatever the span, rounded to whole minutes.
    let span = (end - start).max(60_000);
    let bin_ms = ((span / 240).max(60_000) / 60_000) * 60_000;
    let n = (span / bin_ms + 1) as usize;
    let minutes = |i: usize| (i as i64 * bin_ms) as f64 / 60_000.0;
    let x_max = minutes(n);

    let root = SVGBackend::new(path, (1100, 700)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| e.to_string())?;
    let root = root
        .titled(title, ("sans-serif", 22))
        .map_err(|e| e.to_string())?;
    let (top, bottom) = root.split_vertically(340);

    let in_bins = bins(&alerts_in.times_ms, start, bin_ms, n);
    let y_max = in_bins.iter().copied().max().unwrap_or(1).max(1) as f64 * 1.1;
    let mut chart = ChartBuilder::on(&top)
        .margin(12)
        .x_label_area_size(36)
        .y_label_area_size(70)
        .caption(
            format!("alert events in, per {} min", bin_ms / 60_000),
            ("sans-serif", 16),
        )
        .build_cartesian_2d(0f64..x_max, 0f64..y_max)
        .map_err(|e| e.to_string())?;
    chart
        .configure_mesh()
        .x_desc("event time since start (minutes)")
        .y_desc("events")
        .draw()
        .map_err(|e| e.to_string())?;
    chart
        .draw_series(LineSeries::new(
            in_bins
                .iter()
                .enumerate()
                .map(|(i, &c)| (minutes(i), c as f64)),
            PALETTE[0].stroke_width(2),
        ))
        .map_err(|e| e.to_string())?
        .label(alerts_in.name.clone())
        .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], PALETTE[0].stroke_width(2)));
    chart
        .configure_series_labels()
        .border_style(BLACK)
        .background_style(WHITE.mix(0.85))
        .draw()
        .map_err(|e| e.to_string())?;

    let out_bins: Vec<Vec<u64>> = incidents_out
        .iter()
        .map(|s| bins(&s.times_ms, start, bin_ms, n))
        .collect();
    let y_max = out_bins
        .iter()
        .flat_map(|b| b.iter().copied())
        .max()
        .unwrap_or(1)
        .max(1) as f64
        * 1.1;
    let mut chart = ChartBuilder::on(&bottom)
        .margin(12)
        .x_label_area_size(36)
        .y_label_area_size(70)
        .caption(
            format!("incidents opened, per {} min", bin_ms / 60_000),
            ("sans-serif", 16),
        )
        .build_cartesian_2d(0f64..x_max, 0f64..y_max)
        .map_err(|e| e.to_string())?;
    chart
        .configure_mesh()
        .x_desc("event time since start (minutes)")
        .y_desc("incidents")
        .draw()
        .map_err(|e| e.to_string())?;
    for (k, (s, b)) in incidents_out.iter().zip(&out_bins).enumerate() {
        let color = PALETTE[(k + 1) % PALETTE.len()];
        chart
            .draw_series(LineSeries::new(
                b.iter().enumerate().map(|(i, &c)| (minutes(i), c as f64)),
                color.stroke_width(2),
            ))
            .map_err(|e| e.to_string())?
            .label(format!("{} ({} opened)", s.name, s.times_ms.len()))
            .legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 18, y)], color.stroke_width(2))
            });
    }
    chart
        .configure_series_labels()
        .border_style(BLACK)
        .background_style(WHITE.mix(0.85))
        .draw()
        .map_err(|e| e.to_string())?;
    root.present().map_err(|e| e.to_string())?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn binning_counts_every_time_once() {
        let b = bins(&[0, 59_999, 60_000, 500_000, -5], 0, 60_000, 3);
        assert_eq!(b, vec![3, 1, 1]);
    }

    #[test]
    fn svg_is_written_with_both_panels() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("storm.svg");
        let alerts = Series {
            name: "alerts".into(),
            times_ms: (0..1000).map(|i| i * 3_000).collect(),
        };
        let inc = Series {
            name: "corral".into(),
            times_ms: vec![10_000, 900_000],
        };
        storm_svg(&p, "test storm", &alerts, &[inc]).unwrap();
        let svg = std::fs::read_to_string(&p).unwrap();
        assert!(svg.starts_with("<svg"));
        assert!(svg.contains("incidents opened"));
        assert!(svg.contains("corral (2 opened)"));
        let empty = Series {
            name: "none".into(),
            times_ms: vec![],
        };
        assert!(storm_svg(&p, "empty", &empty, &[]).is_err());
    }
}
