//! The trend chart of a standard: pass and fail per snapshot of the period, as numbers a
//! template draws into an inline SVG (no script, no external asset). Only digits, commas
//! and spaces come out of here, so nothing needs escaping; a long period is thinned to at
//! most [`MAX_POINTS`] evenly spaced snapshots (the newest always kept).

use serde::Serialize;

use crate::model::TrendPoint;

/// Points drawn at most.
pub(crate) const MAX_POINTS: usize = 120;
/// Drawing area.
const WIDTH: f64 = 480.0;
const HEIGHT: f64 = 120.0;
const PAD: f64 = 8.0;

/// One marker, with its hover text.
#[derive(Debug, Serialize)]
pub(crate) struct Dot {
    pub x: String,
    pub pass_y: String,
    pub fail_y: String,
    pub label: String,
}

/// What the template draws.
#[derive(Debug, Serialize)]
pub(crate) struct Chart {
    pub width: u32,
    pub height: u32,
    pub pass_points: String,
    pub fail_points: String,
    pub max: u64,
    pub first: String,
    pub last: String,
    pub dots: Vec<Dot>,
    pub snapshots: usize,
}

fn thin(points: &[TrendPoint]) -> Vec<&TrendPoint> {
    if points.len() <= MAX_POINTS {
        return points.iter().collect();
    }
    let step = (points.len() - 1) as f64 / (MAX_POINTS - 1) as f64;
    (0..MAX_POINTS)
        .filter_map(|i| points.get(((i as f64) * step).round() as usize))
        .collect()
}

pub(crate) fn chart(trend: &[TrendPoint]) -> Chart {
    let shown = thin(trend);
    let max = shown
        .iter()
        .map(|p| p.pass.max(p.fail))
        .max()
        .unwrap_or(0)
        .max(1);
    let n = shown.len();
    let x = |i: usize| {
        if n <= 1 {
            WIDTH / 2.0
        } else {
            PAD + (WIDTH - 2.0 * PAD) * i as f64 / (n - 1) as f64
        }
    };
    let y = |v: u64| HEIGHT - PAD - (HEIGHT - 2.0 * PAD) * v as f64 / max as f64;
    let line = |pick: fn(&TrendPoint) -> u64| {
        shown
            .iter()
            .enumerate()
            .map(|(i, p)| format!("{:.1},{:.1}", x(i), y(pick(p))))
            .collect::<Vec<_>>()
            .join(" ")
    };
    Chart {
        width: WIDTH as u32,
        height: HEIGHT as u32,
        pass_points: line(|p| p.pass),
        fail_points: line(|p| p.fail),
        max,
        first: shown
            .first()
            .map(|p| p.started_at.clone())
            .unwrap_or_default(),
        last: shown
            .last()
            .map(|p| p.started_at.clone())
            .unwrap_or_default(),
        dots: shown
            .iter()
            .enumerate()
            .map(|(i, p)| Dot {
                x: format!("{:.1}", x(i)),
                pass_y: format!("{:.1}", y(p.pass)),
                fail_y: format!("{:.1}", y(p.fail)),
                label: format!("{}: {} pass, {} fail", p.started_at, p.pass, p.fail),
            })
            .collect(),
        snapshots: trend.len(),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "test code")]
    use super::*;

    fn point(pass: u64, fail: u64) -> TrendPoint {
        TrendPoint {
            snapshot_id: "s".into(),
            started_at: "t".into(),
            pass,
            fail,
        }
    }

    #[test]
    fn the_highest_count_touches_the_top_and_zero_the_bottom() {
        let c = chart(&[point(10, 0), point(5, 10)]);
        assert_eq!(c.max, 10);
        assert_eq!(c.pass_points, "8.0,8.0 472.0,60.0");
        assert_eq!(c.fail_points, "8.0,112.0 472.0,8.0");
    }

    #[test]
    fn a_long_period_is_thinned_keeping_the_first_and_the_newest() {
        let trend: Vec<TrendPoint> = (0..1000).map(|i| point(i, 0)).collect();
        let c = chart(&trend);
        assert_eq!(c.dots.len(), MAX_POINTS);
        assert_eq!(c.snapshots, 1000);
        assert!(c.dots.last().unwrap().label.contains("999 pass"));
        assert!(c.dots[0].label.contains(" 0 pass"));
    }

    #[test]
    fn one_snapshot_is_one_centred_dot() {
        let c = chart(&[point(3, 1)]);
        assert_eq!(c.dots.len(), 1);
        assert_eq!(c.dots[0].x, "240.0");
    }
}
