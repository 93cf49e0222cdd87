//! The second method's maps and labels: contour maps of a station network's anomaly index
//! (`geomag::contour`) and the five event classes (`geomag::labels`), on hand-made cases and on
//! the real CENC catalog.

use jiff::Timestamp;
use quakelab::catalog::{Event, Region};
use quakelab::geo::haversine_km;
use quakelab::geomag::contour::{Interpolation, MapSpec, render_day, render_maps, write_map_png};
use quakelab::geomag::labels::{
    AftershockRule, ClassParams, Direction, QuakeClass, class_table, day_classes,
};
use quakelab::geomag::{DailyField, GeomagStation};
use quakelab::period::Period;

use crate::support;

fn station(code: &str, latitude: f64, longitude: f64) -> GeomagStation {
    GeomagStation {
        code: code.into(),
        latitude,
        longitude,
    }
}

/// A field of one day (2022-01-01) over `stations` with `values`.
fn one_day(stations: Vec<GeomagStation>, values: Vec<f64>) -> DailyField {
    DailyField::new(
        stations,
        Period::parse("2022-01-01", "2022-01-02").unwrap(),
        values,
    )
    .unwrap()
}

fn spec(size: usize, bounds: Region, interpolation: Interpolation) -> MapSpec {
    MapSpec {
        size,
        bounds,
        levels: 0,
        interpolation,
        clip: 1.0,
        line_value: 0.0,
    }
}

fn sichuan_bounds() -> Region {
    Region::new(101.0, 103.4, 27.0, 29.2).unwrap()
}

#[test]
fn one_station_gives_a_constant_map_under_either_interpolation() {
    let field = one_day(vec![station("A", 28.1, 102.16)], vec![0.3]);
    for interpolation in [
        Interpolation::InverseDistance { power: 2.0 },
        Interpolation::Gaussian { sigma_km: 30.0 },
    ] {
        let spec = spec(16, sichuan_bounds(), interpolation).check().unwrap();
        let maps = render_maps(&field, &[0], &spec).unwrap();
        // (0.3 / 1 + 1) / 2 = 0.65 everywhere.
        assert!(
            maps.image(0).iter().all(|v| (v - 0.65).abs() < 1e-6),
            "{interpolation:?}"
        );
    }
}

#[test]
fn at_a_station_pixel_the_map_takes_the_station_value() {
    let stations = vec![
        station("A", 28.9, 101.3),
        station("B", 27.4, 103.1),
        station("C", 28.05, 102.21),
    ];
    let field = one_day(stations, vec![0.8, -0.6, 0.1]);
    let spec = spec(
        20,
        sichuan_bounds(),
        Interpolation::InverseDistance { power: 2.0 },
    )
    .check()
    .unwrap();
    let map = render_day(&field, 0, &spec).unwrap();
    // 20 pixels over 2.2° of latitude and 2.4° of longitude: 0.11° and 0.12° per pixel.
    // A at 28.9N 101.3E: row ⌊(29.2 − 28.9)/0.11⌋ = 2, column ⌊0.3/0.12⌋ = 2.
    // B at 27.4N 103.1E: row ⌊1.8/0.11⌋ = 16, column ⌊2.1/0.12⌋ = 17.
    // C at 28.05N 102.21E: row ⌊1.15/0.11⌋ = 10, column ⌊1.21/0.12⌋ = 10.
    assert_eq!(map.station_pixels[0], Some((2, 2)));
    assert_eq!(map.station_pixels[1], Some((16, 17)));
    assert_eq!(map.station_pixels[2], Some((10, 10)));
    for (s, value) in [0.8, -0.6, 0.1].iter().enumerate() {
        let (r, c) = map.station_pixels[s].unwrap();
        let expected = ((value + 1.0) / 2.0) as f32;
        assert!(
            (map.field[r * 20 + c] - expected).abs() < 1e-6,
            "station {s}"
        );
    }
}

#[test]
fn row_zero_is_north_and_column_zero_is_west() {
    // The largest value in the north-west: the top-left quadrant is the brightest.
    let stations = vec![
        station("NW", 29.0, 101.2),
        station("NE", 29.0, 103.2),
        station("SW", 27.2, 101.2),
        station("SE", 27.2, 103.2),
    ];
    let field = one_day(stations, vec![0.9, 0.0, 0.0, -0.5]);
    let size = 24;
    let spec = spec(
        size,
        sichuan_bounds(),
        Interpolation::InverseDistance { power: 2.0 },
    )
    .check()
    .unwrap();
    let maps = render_maps(&field, &[0], &spec).unwrap();
    let image = maps.image(0);
    let quadrant = |top: bool, left: bool| {
        let rows = if top { 0..size / 2 } else { size / 2..size };
        let mut sum = 0.0f64;
        for r in rows {
            let cols = if left { 0..size / 2 } else { size / 2..size };
            for c in cols {
                sum += f64::from(image[r * size + c]);
            }
        }
        sum
    };
    let nw = quadrant(true, true);
    for other in [
        quadrant(true, false),
        quadrant(false, true),
        quadrant(false, false),
    ] {
        assert!(nw > other, "{nw} vs {other}");
    }
    // And the south-east, the smallest value, is the darkest.
    assert!(quadrant(false, false) < quadrant(true, false));
    assert!(quadrant(false, false) < quadrant(false, true));
}

#[test]
fn two_station_inverse_distance_by_hand() {
    // Five pixels over 27.5–28.5N and 99.5–100.5E: centres at 28.4, 28.2, 28.0, 27.8, 27.6N
    // and 99.6 … 100.4E. Station A at 28.2N 100.0E is the centre of pixel (1, 2); B at 27.4N
    // 100.0E lies south of the map (not snapped). Pixel (2, 2) at 28.0N 100.0E is on their
    // meridian, 0.2° from A and 0.6° from B: with power 2 the weights are 1/d² in the ratio
    // 9 : 1, so the value is (9·a + b)/10.
    let bounds = Region::new(99.5, 100.5, 27.5, 28.5).unwrap();
    let (a, b) = (0.8, -0.4);
    let field = one_day(
        vec![station("A", 28.2, 100.0), station("B", 27.4, 100.0)],
        vec![a, b],
    );
    let spec = spec(5, bounds, Interpolation::InverseDistance { power: 2.0 })
        .check()
        .unwrap();
    let map = render_day(&field, 0, &spec).unwrap();
    assert_eq!(map.station_pixels, vec![Some((1, 2)), None]);
    let value = (9.0 * a + b) / 10.0;
    let expected = ((value + 1.0) / 2.0) as f32;
    assert!(
        (map.field[2 * 5 + 2] - expected).abs() < 1e-6,
        "{}",
        map.field[12]
    );
    // The pixel of A carries A's value.
    assert!((map.field[5 + 2] - ((a + 1.0) / 2.0) as f32).abs() < 1e-6);
    // The distances are those of the sphere (a sanity check of the 1 : 3 ratio).
    let ratio = haversine_km(28.0, 100.0, 27.4, 100.0) / haversine_km(28.0, 100.0, 28.2, 100.0);
    assert!((ratio - 3.0).abs() < 1e-6, "{ratio}");
}

#[test]
fn values_beyond_the_clip_saturate_and_a_missing_station_is_left_out() {
    let stations = vec![station("A", 28.9, 101.3), station("B", 27.4, 103.1)];
    let period = Period::parse("2022-01-01", "2022-01-03").unwrap();
    // Day 0: A = 5 (beyond clip 1), B missing; day 1: both.
    let field = DailyField::new(stations, period, vec![5.0, f64::NAN, -5.0, 0.0]).unwrap();
    let spec = spec(
        8,
        sichuan_bounds(),
        Interpolation::InverseDistance { power: 2.0 },
    )
    .check()
    .unwrap();
    let maps = render_maps(&field, &[0, 1], &spec).unwrap();
    assert!(maps.image(0).iter().all(|&v| v == 1.0));
    assert_eq!(maps.missing_values(), 1);
    assert_eq!(maps.days(), &[0, 1]);
    let batch = maps.as_batch().unwrap();
    let shape = batch.shape();
    assert_eq!(
        (shape.n, shape.channels, shape.height, shape.width),
        (2, 1, 8, 8)
    );
    assert_eq!(batch.image(1).unwrap(), maps.image(1));
}

#[test]
fn contour_lines_are_drawn_with_the_line_value_where_levels_cross() {
    let stations = vec![station("W", 28.1, 101.1), station("E", 28.1, 103.3)];
    let field = one_day(stations, vec![-0.9, 0.9]);
    let mut spec = spec(
        32,
        sichuan_bounds(),
        Interpolation::InverseDistance { power: 2.0 },
    );
    spec.levels = 3;
    spec.line_value = 0.0;
    let spec = spec.check().unwrap();
    let maps = render_maps(&field, &[0], &spec).unwrap();
    let day = render_day(&field, 0, &spec).unwrap();
    // The stack is the field with the line pixels set to the line value.
    for p in 0..32 * 32 {
        let expected = if day.lines[p] { 0.0 } else { day.field[p] };
        assert_eq!(maps.image(0)[p], expected, "pixel {p}");
    }
    // West to east every row rises from about 0.05 to about 0.95 and crosses the levels 1/4,
    // 1/2 and 3/4; the pixel just east of each crossing is on a line.
    for r in 0..32 {
        let row = &day.field[r * 32..(r + 1) * 32];
        for level in [0.25f32, 0.5, 0.75] {
            let c = (1..32)
                .find(|&c| row[c - 1] < level && level <= row[c])
                .unwrap();
            assert!(day.lines[r * 32 + c], "row {r}, level {level}");
        }
        // The stations (snapped to columns 1 and 30, 101.1125E and 103.2875E) are symmetric
        // about 102.2E, between columns 15 and 16, so 1/2 is crossed there in every row.
        assert!(row[15] < 0.5 && row[16] > 0.5, "row {r}");
        assert!(day.lines[r * 32 + 16] && !day.lines[r * 32 + 15], "row {r}");
    }
}

#[test]
fn a_map_of_a_day_without_any_station_value_is_refused() {
    let field = one_day(vec![station("A", 28.1, 102.16)], vec![f64::NAN]);
    let spec = spec(
        8,
        sichuan_bounds(),
        Interpolation::InverseDistance { power: 2.0 },
    )
    .check()
    .unwrap();
    let err = render_maps(&field, &[0], &spec).unwrap_err().to_string();
    assert!(err.contains("map of 2022-01-01 (day 0)"), "{err}");
}

#[test]
fn a_map_of_a_day_beyond_the_index_is_refused() {
    let field = one_day(vec![station("A", 28.1, 102.16)], vec![0.0]);
    let spec = spec(
        8,
        sichuan_bounds(),
        Interpolation::InverseDistance { power: 2.0 },
    )
    .check()
    .unwrap();
    let err = render_maps(&field, &[1], &spec).unwrap_err().to_string();
    assert!(err.contains("covers only 1 days"), "{err}");
}

#[test]
fn a_map_figure_is_a_png_of_the_drawn_size() {
    let field = one_day(
        vec![station("A", 28.9, 101.3), station("B", 27.4, 103.1)],
        vec![0.7, -0.7],
    );
    let mut spec = spec(
        48,
        sichuan_bounds(),
        Interpolation::InverseDistance { power: 2.0 },
    );
    spec.levels = 4;
    let map = render_day(&field, 0, &spec.check().unwrap()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("map.png");
    write_map_png(&path, &map).unwrap();
    let bytes = std::fs::read(&path).unwrap();
    assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n");
    // IHDR: width and height (big-endian) at bytes 16..24; 48 pixels drawn 10 times.
    let width = u32::from_be_bytes(bytes[16..20].try_into().unwrap());
    let height = u32::from_be_bytes(bytes[20..24].try_into().unwrap());
    assert_eq!((width, height), (480, 480));
}

fn at(time: &str, magnitude: f64, latitude: f64, longitude: f64) -> Event {
    Event {
        time: time.parse::<Timestamp>().unwrap(),
        latitude,
        longitude,
        depth_km: None,
        magnitude,
    }
}

/// The hand-made catalog of the labelling tests (period 2022-01-01 to 2022-01-21, 20 days).
fn hand_catalog() -> Vec<Event> {
    vec![
        // E1, day 3 at its first instant: north, M 4.5 → class 1.
        at("2022-01-04T00:00:00Z", 4.5, 29.5, 102.2),
        // E2, day 3: north, M 3.5 → class 2 (an aftershock of E1: 14 km, 12 h later).
        at("2022-01-04T12:00:00Z", 3.5, 29.6, 102.1),
        // E3, day 8: south, M 4.0 exactly → "≤ 4", class 4.
        at("2022-01-09T05:00:00Z", 4.0, 26.8, 102.0),
        // E4, day 9: M 3.0 exactly, not above the minimum.
        at("2022-01-10T05:00:00Z", 3.0, 26.9, 102.0),
        // E5, day 10: M 5.0 at 33N, 545 km away.
        at("2022-01-11T05:00:00Z", 5.0, 33.0, 102.16),
        // E8, day 12: south, M 3.3 → class 4 (99 km from E3, not its aftershock).
        at("2022-01-13T05:00:00Z", 3.3, 27.0, 101.0),
        // E6, day 14: south, M 4.2 → class 3; E7 the same day, north, M 4.2 → class 1.
        at("2022-01-15T01:00:00Z", 4.2, 26.9, 102.3),
        at("2022-01-15T20:00:00Z", 4.2, 29.4, 102.3),
        // E9: after the period.
        at("2022-02-05T00:00:00Z", 4.9, 29.0, 102.0),
    ]
}

/// A row of Table 4: class, direction, above the threshold, events, maps.
type Table4Row = (
    QuakeClass,
    Option<Direction>,
    Option<bool>,
    Option<usize>,
    usize,
);

fn hand_params(horizon_days: usize) -> ClassParams {
    ClassParams {
        horizon_days,
        aftershocks: None,
        ..ClassParams::default()
    }
}

#[test]
fn labels_of_a_hand_made_catalog_with_horizons_of_one_and_three_days() {
    let period = Period::parse("2022-01-01", "2022-01-21").unwrap();
    let events = hand_catalog();
    assert!(haversine_km(28.10, 102.16, 33.0, 102.16) > 400.0);

    let one = day_classes(&events, &period, &hand_params(1), 0).unwrap();
    // North centre: mean of (29.5, 102.2), (29.6, 102.1), (29.4, 102.3); south: of (26.8,
    // 102.0), (27.0, 101.0), (26.9, 102.3).
    let (north, south) = (one.centres[0], one.centres[1]);
    assert!((north.0 - 29.5).abs() < 1e-12 && (north.1 - 102.2).abs() < 1e-12);
    assert!((south.0 - 26.9).abs() < 1e-12 && (south.1 - 305.3 / 3.0).abs() < 1e-12);
    assert_eq!(one.events.len(), 6);
    assert_eq!(
        (
            one.left_out.outside_period,
            one.left_out.magnitude,
            one.left_out.distance
        ),
        (1, 1, 1)
    );
    use QuakeClass::*;
    let mut expected = vec![None; 20];
    expected[2] = NorthAbove; // E1 (4.5) beats E2 (3.5) on day 3.
    expected[7] = SouthAtOrBelow; // E3, M 4.0.
    expected[11] = SouthAtOrBelow; // E8.
    expected[13] = SouthAbove; // E6 and E7 tie at 4.2: the earlier, E6.
    assert_eq!(one.classes, expected);

    let three = day_classes(&events, &period, &hand_params(3), 0).unwrap();
    #[rustfmt::skip]
    let expected = vec![
        NorthAbove, NorthAbove, NorthAbove, None, None,
        SouthAtOrBelow, SouthAtOrBelow, SouthAtOrBelow, None, SouthAtOrBelow,
        SouthAtOrBelow, SouthAbove, SouthAbove, SouthAbove, None,
        None, None, None, None, None,
    ];
    assert_eq!(three.classes, expected);

    // Table 4 of the three-day labels: events per class and maps per class.
    let table = class_table(&three);
    let rows: Vec<Table4Row> = table
        .iter()
        .map(|r| (r.class, r.direction, r.above_threshold, r.events, r.maps))
        .collect();
    assert_eq!(
        rows,
        vec![
            (None, Option::None, Option::None, Option::None, 9),
            (NorthAbove, Some(Direction::North), Some(true), Some(2), 3),
            (
                NorthAtOrBelow,
                Some(Direction::North),
                Some(false),
                Some(1),
                0
            ),
            (SouthAbove, Some(Direction::South), Some(true), Some(1), 3),
            (
                SouthAtOrBelow,
                Some(Direction::South),
                Some(false),
                Some(2),
                5
            ),
        ]
    );
}

#[test]
fn the_aftershock_rule_leaves_out_smaller_events_close_after_larger_ones() {
    let period = Period::parse("2022-01-01", "2022-01-21").unwrap();
    let params = ClassParams {
        horizon_days: 1,
        aftershocks: Some(AftershockRule::PAPER),
        ..ClassParams::default()
    };
    let labels = day_classes(&hand_catalog(), &period, &params, 0).unwrap();
    // Only E2 (12 h after and 14 km from the larger E1) goes; E7 has E6's magnitude, and E1 is
    // 11 days before it.
    assert_eq!(labels.left_out.aftershocks, 1);
    assert_eq!(labels.events.len(), 5);
    assert!(labels.events.iter().all(|e| e.event.magnitude != 3.5));
}

#[test]
fn direction_classes_from_a_single_epicentre_are_refused() {
    let period = Period::parse("2022-01-01", "2022-01-21").unwrap();
    let events = [at("2022-01-04T00:00:00Z", 4.5, 29.5, 102.2)];
    let err = day_classes(&events, &period, &hand_params(1), 0)
        .unwrap_err()
        .to_string();
    assert!(err.contains("at least two distinct points"), "{err}");
}

#[test]
fn direction_classes_with_both_centres_north_are_refused() {
    let period = Period::parse("2022-01-01", "2022-01-21").unwrap();
    let events = [
        at("2022-01-04T00:00:00Z", 4.5, 29.5, 102.2),
        at("2022-01-06T00:00:00Z", 4.5, 28.5, 101.0),
    ];
    let err = day_classes(&events, &period, &hand_params(1), 0)
        .unwrap_err()
        .to_string();
    assert!(err.contains("both lie north"), "{err}");
}

#[test]
fn an_event_magnitude_that_is_not_finite_is_refused() {
    let period = Period::parse("2022-01-01", "2022-01-21").unwrap();
    let events = [at("2022-01-04T00:00:00Z", f64::NAN, 29.5, 102.2)];
    let err = day_classes(&events, &period, &hand_params(1), 0)
        .unwrap_err()
        .to_string();
    assert!(err.contains("not a finite number"), "{err}");
}

/// The paper's period on the real CENC list (Beijing time, read as UTC+8).
///
/// Counted independently with a short Python script (csv, datetime, the haversine formula with
/// R = 6371 km) over `cenc_sichuan_box_2012-2024.csv`: of 625 rows, 50 fall in
/// [2022-02-01, 2023-01-01) UTC; 16 of them have M ≤ 3.0; the other 34 all lie within 400 km of
/// 28.10N 102.16E (the farthest, the 2022-06-01 M 3.2 at 30.39N 102.91E, at 264.8 km). Leaving
/// out events within 7 days after and 50 km of a larger one keeps 18, exactly the paper's Table 3
/// (same times, magnitudes and places). scikit-learn's KMeans(2, n_init=50) on the 18 epicentres
/// gives centres (29.681111, 102.366667) and (27.193333, 101.973333), the paper's (29.68N,
/// 102.37E) and (27.19N, 101.97E); on all 34, (29.668333, 102.262083) and (27.249, 101.837).
/// The 18 split 6 / 3 / 5 / 4 over classes 1–4, the paper's Table 4 event counts. With the
/// 14-day horizon the 334 maps split 170 / 70 / 14 / 60 / 20 (the paper: 169 / 83 / 21 / 36 / 25),
/// recounted by the same script.
#[test]
#[cfg_attr(
    not(quakelab_real_data),
    ignore = "real data directory not found: set QUAKELAB_REAL_DATA"
)]
fn cenc_events_and_directions_of_the_paper_period() {
    use quakelab::io::catalog::{CatalogFormat, ReadOptions, read_catalog};
    let path = support::real_data("catalogs/cenc_sichuan_box_2012-2024.csv");
    let format = CatalogFormat::detect(&path).unwrap();
    let (catalog, _) = read_catalog(&path, &format, &ReadOptions::default()).unwrap();
    assert_eq!(catalog.len(), 625);
    let period = Period::parse("2022-02-01", "2023-01-01").unwrap();
    assert_eq!(period.n_days(), 334);

    let all = ClassParams {
        aftershocks: None,
        ..ClassParams::default()
    };
    let every = day_classes(catalog.events(), &period, &all, 0).unwrap();
    assert_eq!(every.events.len(), 34);
    assert_eq!(
        (
            every.left_out.outside_period,
            every.left_out.magnitude,
            every.left_out.distance
        ),
        (575, 16, 0)
    );
    let close = |a: (f64, f64), b: (f64, f64)| (a.0 - b.0).abs() < 1e-5 && (a.1 - b.1).abs() < 1e-5;
    assert!(
        close(every.centres[0], (29.668333, 102.262083)),
        "{:?}",
        every.centres
    );
    assert!(
        close(every.centres[1], (27.249, 101.837)),
        "{:?}",
        every.centres
    );

    let paper = day_classes(catalog.events(), &period, &ClassParams::default(), 0).unwrap();
    assert_eq!(paper.events.len(), 18);
    assert_eq!(paper.left_out.aftershocks, 16);
    assert!(
        close(paper.centres[0], (29.681111, 102.366667)),
        "{:?}",
        paper.centres
    );
    assert!(
        close(paper.centres[1], (27.193333, 101.973333)),
        "{:?}",
        paper.centres
    );
    let table = class_table(&paper);
    let events: Vec<Option<usize>> = table.iter().map(|r| r.events).collect();
    assert_eq!(events, vec![None, Some(6), Some(3), Some(5), Some(4)]);
    let maps: Vec<usize> = table.iter().map(|r| r.maps).collect();
    assert_eq!(maps, vec![170, 70, 14, 60, 20]);
    // The Luding M 6.8 of 2022-09-05 12:52:18 Beijing time (04:52:18 UTC) is a north event
    // above the threshold.
    let luding = paper
        .events
        .iter()
        .find(|e| e.event.magnitude == 6.8)
        .unwrap();
    assert_eq!(luding.event.time.to_string(), "2022-09-05T04:52:18Z");
    assert_eq!(luding.class, QuakeClass::NorthAbove);
}
