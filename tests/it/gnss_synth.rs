//! The synthetic GNSS network: each term of the model checked against its closed form, with
//! the other terms switched off, and the random parts against their configured statistics.

use jiff::Timestamp;
use quakelab::catalog::{Catalog, Event, Region};
use quakelab::gnss::{Station, StationSeries, StationSet};
use quakelab::io::tenv3::{Tenv3Options, read_tenv3};
use quakelab::period::Period;
use quakelab::synth::gnss::{
    GnssParams, GnssReport, NETWORK_MARKER, Overwrite, PrecursorParams, VelocitySource,
    check_network_output,
};
use quakelab::synth::{Scenario, simulate_network, write_network};

/// Mean Earth radius (km) of the model's great-circle distances.
const R_EARTH_KM: f64 = 6371.0;

/// The japan scenario's GNSS parameters with every term switched off: no motion, no seasonal
/// terms, no noise, no gaps, no relaxation, no precursor, and no cut-off on small offsets.
fn quiet() -> GnssParams {
    let mut p = Scenario::builtin("japan").unwrap().gnss.params().clone();
    p.velocity.sources.clear();
    p.seasonal.annual_mm = [0.0; 3];
    p.seasonal.semiannual_mm = [0.0; 3];
    p.noise.white_mm = [0.0; 3];
    p.noise.flicker_mm = [0.0; 3];
    p.gaps.late_start_fraction = 0.0;
    p.gaps.early_end_fraction = 0.0;
    p.gaps.short_per_year = 0.0;
    p.gaps.long_per_year = 0.0;
    p.coseismic.min_offset_mm = 0.0;
    p.postseismic.m_min = 10.0;
    p.precursor = None;
    p
}

/// A scenario around the equator at 140E, so distances and directions are easy by hand.
fn equator_scenario(gnss: GnssParams) -> Scenario {
    let mut s = Scenario::builtin("japan").unwrap();
    s.name = "equator".into();
    s.region = Region::new(130.0, 150.0, -10.0, 10.0).unwrap();
    s.gnss = gnss.check().unwrap();
    s
}

fn station(name: &str, latitude: f64, longitude: f64) -> Station {
    Station {
        name: name.into(),
        latitude,
        longitude,
        height_m: 0.0,
    }
}

fn event(time: &str, latitude: f64, longitude: f64, depth_km: f64, magnitude: f64) -> Event {
    Event {
        time: time.parse().unwrap(),
        latitude,
        longitude,
        depth_km: Some(depth_km),
        magnitude,
    }
}

fn year_2010() -> Period {
    Period::parse("2010-01-01", "2011-01-01").unwrap()
}

fn fifteen_years() -> Period {
    Period::parse("2009-01-01", "2024-01-01").unwrap()
}

/// Degrees of longitude on the equator for `km` of great-circle distance.
fn degrees_for_km(km: f64) -> f64 {
    (km / R_EARTH_KM).to_degrees()
}

fn simulate(
    scenario: &Scenario,
    catalog: &Catalog,
    period: &Period,
    stations: &[Station],
) -> (StationSet, GnssReport) {
    simulate_network(scenario, catalog, period, Some(stations)).unwrap()
}

/// `M0 / (4 pi mu (r^2 + z^2 + a^2))` in metres with mu = 30 GPa and
/// `a = 10^(-2.3 + 0.5 M)` km: the documented formula, written out here on its own.
fn point_source_offset_m(magnitude: f64, r_km: f64, depth_km: f64) -> f64 {
    let moment = 10f64.powf(1.5 * magnitude + 9.1);
    let a_km = 10f64.powf(-2.3 + 0.5 * magnitude);
    let r2_m2 = (r_km * r_km + depth_km * depth_km + a_km * a_km) * 1e6;
    moment / (4.0 * std::f64::consts::PI * 30e9 * r2_m2)
}

#[test]
fn secular_motion_is_velocity_times_days() {
    // One source on the meridian 140E, pulling west at 40 mm/yr, decaying over 100 km, with
    // 5 mm/yr of subsidence. A station on it moves 40 mm/yr west; one 1 degree east of it
    // (111.19 km on the equator) moves exp(-111.19 / 100) as fast.
    let mut p = quiet();
    p.velocity.sources.push(VelocitySource {
        name: "meridian".into(),
        trench: vec![[140.0, -5.0], [140.0, 5.0]],
        speed_mm_yr: 40.0,
        azimuth_deg: 270.0,
        decay_km: 100.0,
        up_mm_yr: -5.0,
    });
    let scenario = equator_scenario(p);
    let stations = [station("ONLN", 0.0, 140.0), station("INLD", 0.0, 141.0)];
    let (set, _) = simulate(&scenario, &Catalog::default(), &year_2010(), &stations);
    let one_degree_km = R_EARTH_KM * std::f64::consts::PI / 180.0;
    let expectations = [("ONLN", 1.0), ("INLD", (-one_degree_km / 100.0).exp())];
    for (name, weight) in expectations {
        let series = set
            .series()
            .iter()
            .find(|s| s.station().name == name)
            .unwrap();
        assert_eq!(series.len(), 365);
        let pos = series.positions();
        for (from, days) in [(0usize, 300usize), (10, 1), (100, 264)] {
            let east = -40.0 * weight * 1e-3 / 365.25 * days as f64;
            let up = -5.0 * weight * 1e-3 / 365.25 * days as f64;
            let moved = [0, 1, 2].map(|c| pos[from + days][c] - pos[from][c]);
            assert!(
                (moved[0] - east).abs() < 1e-12,
                "{name}: {moved:?} vs {east}"
            );
            assert!(moved[1].abs() < 1e-12, "{name}: {moved:?}");
            assert!((moved[2] - up).abs() < 1e-12, "{name}: {moved:?} vs {up}");
        }
    }
}

#[test]
fn coseismic_offset_follows_the_point_source_formula() {
    // An M7.0 at 10 km depth under 0N 140E at 00:00 on 2010-07-01 (day 181), a station 50 km
    // due east. By hand: M0 = 10^19.6 = 3.98107e19 N m, a = 10^1.2 = 15.849 km,
    // R^2 = 2500 + 100 + 251.19 = 2851.19 km^2, u = 3.98107e19 / (4 pi 30e9 2.85119e9)
    // = 0.0370380 m, toward the epicentre (west), and -0.3 u up.
    let scenario = equator_scenario(quiet());
    let catalog = Catalog::from_events(vec![event("2010-07-01T00:00:00Z", 0.0, 140.0, 10.0, 7.0)]);
    let stations = [station("EAST", 0.0, 140.0 + degrees_for_km(50.0))];
    let (set, report) = simulate(&scenario, &catalog, &year_2010(), &stations);
    assert_eq!((report.coseismic_events, report.postseismic_events), (1, 0));
    let u = point_source_offset_m(7.0, 50.0, 10.0);
    assert!((u - 0.037_038).abs() < 1e-6, "{u}");
    let pos = set.series()[0].positions();
    for day in [0, 100, 180] {
        assert_eq!(pos[day], [0.0; 3], "nothing before the event");
    }
    for day in [181, 200, 364] {
        assert!((pos[day][0] + u).abs() < 1e-12, "{:?}", pos[day]);
        assert!(pos[day][1].abs() < 1e-12, "{:?}", pos[day]);
        assert!((pos[day][2] + 0.3 * u).abs() < 1e-12, "{:?}", pos[day]);
    }
    // "away" flips the horizontal offset and keeps the vertical one.
    let mut p = quiet();
    p.coseismic.direction = quakelab::synth::gnss::Direction::Away;
    let (set, _) = simulate(&equator_scenario(p), &catalog, &year_2010(), &stations);
    let last = set.series()[0].positions()[364];
    assert!((last[0] - u).abs() < 1e-12 && (last[2] + 0.3 * u).abs() < 1e-12);
    // Ten times as far, the r^-2 far field: u(500 km) / u(50 km) = 2851.19 / 250351.19.
    let far = [station("FARE", 0.0, 140.0 + degrees_for_km(500.0))];
    let (set, _) = simulate(&scenario, &catalog, &year_2010(), &far);
    let ratio = -set.series()[0].positions()[364][0] / u;
    assert!((ratio - 2851.1886 / 250_351.188_6).abs() < 1e-7, "{ratio}");
}

#[test]
fn postseismic_relaxation_is_logarithmic() {
    // An M7.5 at 20 km depth at 00:00 on 2010-07-01 (day 181), a station 30 km due east;
    // ratio 0.5 and tau 20 days. On day 181 + k (noon, t = k + 1/2 days after the event) the
    // east position is -u (1 + 0.5 ln(1 + (k + 0.5) / 20)).
    let mut p = quiet();
    p.postseismic.m_min = 7.0;
    p.postseismic.ratio = 0.5;
    p.postseismic.tau_days = 20.0;
    let scenario = equator_scenario(p);
    let catalog = Catalog::from_events(vec![event("2010-07-01T00:00:00Z", 0.0, 140.0, 20.0, 7.5)]);
    let stations = [station("EAST", 0.0, 140.0 + degrees_for_km(30.0))];
    let (set, report) = simulate(&scenario, &catalog, &year_2010(), &stations);
    assert_eq!(report.postseismic_events, 1);
    let u = point_source_offset_m(7.5, 30.0, 20.0);
    let pos = set.series()[0].positions();
    assert_eq!(pos[180], [0.0; 3]);
    for k in [0usize, 9, 99, 183] {
        let expected = -u * (1.0 + 0.5 * (1.0 + (k as f64 + 0.5) / 20.0).ln());
        let east = pos[181 + k][0];
        assert!(
            (east - expected).abs() < 1e-12,
            "k = {k}: {east} vs {expected}"
        );
        assert!((pos[181 + k][2] - 0.3 * expected).abs() < 1e-12);
    }
}

#[test]
fn precursor_ramp_reaches_its_amplitude_at_the_event() {
    // An M7.0 at 12:00 on 2010-07-01 (t_e = 181.5 days, the noon of day 181), a station 80 km
    // due north; coseismic offsets off. The planted ramp is 0 at the noon of day 151
    // (t_e - 30 d), 1/2 at day 166 and 1 from day 181 on, of a horizontal amplitude
    // 5 mm exp(-80^2 / (2 100^2)) = 5 mm e^-0.32 = 3.6307 mm toward the epicentre (south) and
    // -0.3 times that vertically.
    let mut p = quiet();
    p.coseismic.coefficient = 0.0;
    p.precursor = Some(PrecursorParams {
        m_min: 6.5,
        fraction: 1.0,
        amplitude_mm: 5.0,
        duration_days: 30.0,
        footprint_km: 100.0,
        vertical_ratio: -0.3,
    });
    let scenario = equator_scenario(p);
    let catalog = Catalog::from_events(vec![
        event("2010-07-01T12:00:00Z", 0.0, 140.0, 15.0, 7.0),
        // Below the precursor's m_min: never a candidate.
        event("2010-03-01T12:00:00Z", 0.0, 140.0, 15.0, 6.0),
    ]);
    let stations = [station("NRTH", degrees_for_km(80.0), 140.0)];
    let (set, report) = simulate(&scenario, &catalog, &year_2010(), &stations);
    assert_eq!(report.precursor_candidates, 1);
    assert_eq!(report.precursors.len(), 1);
    let planted = &report.precursors[0];
    assert_eq!(planted.event_index, 1);
    assert_eq!(
        planted.ramp_start,
        "2010-06-01T12:00:00Z".parse::<Timestamp>().unwrap()
    );
    let amplitude = 5e-3 * (-0.32f64).exp();
    assert!((amplitude - 3.6307e-3).abs() < 1e-7);
    assert_eq!(planted.stations_reached, 1);
    assert!((planted.peak_station_mm - 1e3 * amplitude).abs() < 1e-9);
    let pos = set.series()[0].positions();
    let expect = |day: usize, share: f64| {
        let p = pos[day];
        assert!(p[0].abs() < 1e-12, "day {day}: {p:?}");
        assert!((p[1] + share * amplitude).abs() < 1e-12, "day {day}: {p:?}");
        assert!(
            (p[2] + 0.3 * share * amplitude).abs() < 1e-12,
            "day {day}: {p:?}"
        );
    };
    expect(0, 0.0);
    expect(151, 0.0);
    expect(166, 0.5);
    expect(181, 1.0);
    expect(364, 1.0);
    // Strictly between its ends the ramp rises monotonically.
    let north: Vec<f64> = (151..=181).map(|d| -pos[d][1]).collect();
    assert!(north.windows(2).all(|w| w[0] < w[1]), "{north:?}");
}

#[test]
fn japan_and_null_differ_by_the_planted_precursor_only() {
    // Full noise, seasonal terms and gaps: the two scenarios share everything but the
    // precursor, so japan - null is the planted slip: zero before its ramp and
    // 5 mm exp(-r^2 / (2 100^2)) horizontally after the event wherever that is at least
    // min_offset_mm = 0.1 mm, zero where it is less.
    let mut japan = Scenario::builtin("japan").unwrap();
    let mut null = Scenario::builtin("null").unwrap();
    let mut layout = japan.gnss.params().clone();
    layout.layout.n_stations = 60;
    japan.gnss = layout.clone().check().unwrap();
    layout.precursor = None;
    null.gnss = layout.check().unwrap();
    let period = year_2010();
    let catalog = Catalog::from_events(vec![
        event("2010-03-01T06:00:00Z", 38.0, 141.5, 20.0, 7.0),
        event("2010-09-01T18:00:00Z", 35.5, 139.5, 15.0, 7.1),
    ]);
    let (with, with_report) = simulate_network(&japan, &catalog, &period, None).unwrap();
    let (without, without_report) = simulate_network(&null, &catalog, &period, None).unwrap();
    assert!(without_report.precursors.is_empty());
    assert_eq!(with_report.precursor_candidates, 2);
    assert_eq!(with_report.precursors.len(), 1, "round(0.5 * 2) events");
    let planted = &with_report.precursors[0];
    let ramp_start = planted.ramp_start;
    let (mut touched, mut reached, mut peak) = (0, 0, 0.0f64);
    for (a, b) in with.series().iter().zip(without.series()) {
        assert_eq!(a.station(), b.station());
        assert_eq!(a.dates(), b.dates());
        let s = a.station();
        let r_km = haversine_km(s.latitude, s.longitude, planted.latitude, planted.longitude);
        let expected = 5e-3 * (-r_km * r_km / (2.0 * 100.0 * 100.0)).exp();
        if expected >= 1e-4 {
            reached += 1;
            peak = peak.max(expected);
        }
        for ((date, p), q) in a.dates().iter().zip(a.positions()).zip(b.positions()) {
            let diff = [p[0] - q[0], p[1] - q[1], p[2] - q[2]];
            let noon = quakelab::period::midnight_utc(*date) + jiff::SignedDuration::from_hours(12);
            if noon <= ramp_start {
                assert!(diff.iter().all(|d| d.abs() < 1e-12), "{} {date}", s.name);
            } else if noon >= planted.time {
                let horizontal = diff[0].hypot(diff[1]);
                if expected >= 1.0001e-4 {
                    assert!((horizontal - expected).abs() < 1e-9, "{} {date}", s.name);
                    assert!((diff[2] + 0.3 * expected).abs() < 1e-9);
                    touched += 1;
                } else if expected < 0.9999e-4 {
                    assert!(horizontal < 1e-12, "{} {date}", s.name);
                }
            }
        }
    }
    assert!(touched > 0, "the precursor reaches some station");
    assert_eq!(planted.stations_reached, reached);
    assert!((planted.peak_station_mm - 1e3 * peak).abs() < 1e-9);
}

fn haversine_km(lat1: f64, lon1: f64, lat2: f64, lon2: f64) -> f64 {
    let (p1, p2) = (lat1.to_radians(), lat2.to_radians());
    let a = ((p2 - p1) / 2.0).sin().powi(2)
        + p1.cos() * p2.cos() * ((lon2 - lon1).to_radians() / 2.0).sin().powi(2);
    2.0 * R_EARTH_KM * a.sqrt().asin()
}

/// `n <= 700` stations on a grid inside the equator scenario's region, rows of 50.
fn line_of_stations(n: usize) -> Vec<Station> {
    (0..n)
        .map(|i| {
            let (row, column) = ((i / 50) as f64, (i % 50) as f64);
            station(&format!("N{i:03}"), -7.0 + row, 131.0 + 0.3 * column)
        })
        .collect()
}

#[test]
fn white_noise_has_its_configured_standard_deviation() {
    let mut p = quiet();
    p.noise.white_mm = [1.0, 2.0, 5.0];
    let scenario = equator_scenario(p);
    let (set, _) = simulate(
        &scenario,
        &Catalog::default(),
        &fifteen_years(),
        &line_of_stations(20),
    );
    // The mean is known (zero), so the std is sqrt(sum x^2 / N) over N = 20 * 5478 values:
    // its relative standard error is 1 / sqrt(2 N) = 0.2%.
    for (c, sigma) in [1.0e-3, 2.0e-3, 5.0e-3].into_iter().enumerate() {
        let (sum2, n) = set
            .series()
            .iter()
            .flat_map(|s| s.positions())
            .fold((0.0, 0usize), |(s2, n), p| (s2 + p[c] * p[c], n + 1));
        let std = (sum2 / n as f64).sqrt();
        assert!(
            (std / sigma - 1.0).abs() < 0.02,
            "component {c}: {std} vs {sigma}"
        );
    }
}

/// `m Var(mean of m consecutive values) / sigma^2` for AR(1) with coefficient `phi`:
/// `(1 + phi) / (1 - phi) - 2 phi (1 - phi^m) / (m (1 - phi)^2)`.
fn ar1_aggregation_factor(phi: f64, m: usize) -> f64 {
    let m_f = m as f64;
    (1.0 + phi) / (1.0 - phi) - 2.0 * phi * (1.0 - phi.powi(m as i32)) / (m_f * (1.0 - phi).powi(2))
}

/// `m Var(block mean)` and `Var(x)` over all components and stations, means known to be zero.
fn aggregated_variances(set: &StationSet, m: usize) -> (f64, f64) {
    let (mut block2, mut blocks, mut x2, mut n) = (0.0, 0usize, 0.0, 0usize);
    for series in set.series() {
        let pos = series.positions();
        for c in 0..3 {
            for chunk in pos.chunks_exact(m) {
                let mean = chunk.iter().map(|p| p[c]).sum::<f64>() / m as f64;
                block2 += mean * mean;
                blocks += 1;
            }
            x2 += pos.iter().map(|p| p[c] * p[c]).sum::<f64>();
            n += pos.len();
        }
    }
    (m as f64 * block2 / blocks as f64, x2 / n as f64)
}

#[test]
fn one_ar1_component_aggregates_as_its_closed_form() {
    // A single time constant of 30 days, sigma 2 mm: over blocks of m = 30 days,
    // m Var(mean) / sigma^2 = (1 + phi)/(1 - phi) - 2 phi (1 - phi^30) / (30 (1 - phi)^2)
    // with phi = e^(-1/30): 60.01 - 37.93 = 22.08. White noise would give 1.
    let mut p = quiet();
    p.noise.flicker_mm = [2.0; 3];
    p.noise.flicker_time_constants_days = vec![30.0];
    let scenario = equator_scenario(p);
    let (set, _) = simulate(
        &scenario,
        &Catalog::default(),
        &fifteen_years(),
        &line_of_stations(30),
    );
    let sigma2 = 4e-6;
    let expected = ar1_aggregation_factor((-1.0f64 / 30.0).exp(), 30);
    assert!((expected - 22.08).abs() < 0.01, "{expected}");
    let (aggregated, variance) = aggregated_variances(&set, 30);
    assert!((variance / sigma2 - 1.0).abs() < 0.1, "{variance}");
    assert!(
        (aggregated / sigma2 / expected - 1.0).abs() < 0.1,
        "{} vs {expected}",
        aggregated / sigma2
    );
}

#[test]
fn flicker_like_noise_keeps_variance_at_long_lags_and_white_does_not() {
    // Aggregating m = 100 days divides white noise's variance by m (factor 1), while the
    // scenario's three AR(1) components (3, 30, 300 days, equal variances) keep
    // (5.88 + 42.6 + 89.8) / 3 = 46 times as much.
    let period = fifteen_years();
    let stations = line_of_stations(30);
    let mut white = quiet();
    white.noise.white_mm = [2.0; 3];
    let (set, _) = simulate(
        &equator_scenario(white),
        &Catalog::default(),
        &period,
        &stations,
    );
    let (aggregated, variance) = aggregated_variances(&set, 100);
    let white_factor = aggregated / variance;
    assert!((white_factor - 1.0).abs() < 0.15, "{white_factor}");

    let mut flicker = quiet();
    flicker.noise.flicker_mm = [2.0; 3];
    let taus = flicker.noise.flicker_time_constants_days.clone();
    assert_eq!(taus, vec![3.0, 30.0, 300.0]);
    let (set, _) = simulate(
        &equator_scenario(flicker),
        &Catalog::default(),
        &period,
        &stations,
    );
    let (aggregated, variance) = aggregated_variances(&set, 100);
    let expected: f64 = taus
        .iter()
        .map(|tau| ar1_aggregation_factor((-1.0 / tau).exp(), 100) / 3.0)
        .sum();
    assert!((expected - 46.1).abs() < 0.2, "{expected}");
    let factor = aggregated / 4e-6;
    assert!(
        (factor / expected - 1.0).abs() < 0.25,
        "{factor} vs {expected}"
    );
    assert!(factor > 10.0 * white_factor);
    // The mean is known (zero), so the variance estimate is unbiased; long memory only makes
    // it noisier.
    assert!((variance / 4e-6 - 1.0).abs() < 0.1, "{variance}");
}

#[test]
fn same_seed_same_network_other_seed_other_network() {
    let mut scenario = Scenario::builtin("japan").unwrap();
    let mut p = scenario.gnss.params().clone();
    p.layout.n_stations = 40;
    scenario.gnss = p.check().unwrap();
    let period = year_2010();
    let catalog = Catalog::from_events(vec![event("2010-05-01T00:00:00Z", 37.0, 141.5, 20.0, 7.2)]);
    let (a, ra) = simulate_network(&scenario, &catalog, &period, None).unwrap();
    // One thread or many: the same numbers.
    let (b, rb) = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .unwrap()
        .install(|| simulate_network(&scenario, &catalog, &period, None).unwrap());
    assert_eq!(a, b);
    assert_eq!(ra, rb);
    scenario.seed += 1;
    let (c, _) = simulate_network(&scenario, &catalog, &period, None).unwrap();
    assert_ne!(a, c);
    assert_eq!(a.len(), c.len());
}

/// Crossing-number point-in-polygon test, written here independently of the library's.
fn in_polygon(vertices: &[[f64; 2]], lon: f64, lat: f64) -> bool {
    let n = vertices.len();
    (0..n)
        .filter(|&i| {
            let (a, b) = (vertices[i], vertices[(i + 1) % n]);
            (a[1] > lat) != (b[1] > lat)
                && lon < a[0] + (lat - a[1]) * (b[0] - a[0]) / (b[1] - a[1])
        })
        .count()
        % 2
        == 1
}

#[test]
fn sampled_stations_lie_on_land_inside_the_region() {
    let scenario = Scenario::builtin("japan").unwrap();
    let (set, report) =
        simulate_network(&scenario, &Catalog::default(), &year_2010(), None).unwrap();
    assert_eq!(set.len(), 300);
    assert_eq!(report.stations, 300);
    assert_eq!(set.series()[0].station().name, "S001");
    assert_eq!(set.series()[299].station().name, "S300");
    let land = &scenario.gnss.params().layout.land;
    let mut per_polygon = vec![0; land.len()];
    for series in set.series() {
        let s = series.station();
        assert!(scenario.region.contains(s.latitude, s.longitude), "{s:?}");
        let hit = land
            .iter()
            .position(|p| in_polygon(&p.vertices, s.longitude, s.latitude));
        per_polygon[hit.unwrap_or_else(|| panic!("{s:?} is at sea"))] += 1;
        assert!((0.0..=500.0).contains(&s.height_m));
    }
    // Honshu, the largest island, has the most stations; every island has some.
    assert!(per_polygon.iter().all(|&n| n > 0), "{per_polygon:?}");
    assert_eq!(per_polygon.iter().max(), Some(&per_polygon[1]));
}

#[test]
fn given_stations_outside_the_region_are_dropped() {
    let scenario = equator_scenario(quiet());
    let stations = [station("INSD", 0.0, 140.0), station("OUTS", 20.0, 140.0)];
    let (set, report) = simulate(&scenario, &Catalog::default(), &year_2010(), &stations);
    assert_eq!((set.len(), report.outside_region), (1, 1));
    assert_eq!(set.series()[0].station().name, "INSD");
}

#[test]
fn gaps_remove_the_configured_share_of_days() {
    // Short gaps: 10 a year, 1-5 days (mean 3); long gaps: 0.5 a year, 20-60 days (mean 40).
    // A day is covered by no gap with probability exp(-(10 * 3 + 0.5 * 40) / 365.25), so
    // 1 - e^(-0.136893) = 0.127937 of the days are missing.
    let mut p = quiet();
    p.gaps.short_per_year = 10.0;
    p.gaps.short_max_days = 5;
    p.gaps.long_per_year = 0.5;
    p.gaps.long_days = [20, 60];
    let scenario = equator_scenario(p);
    let period = fifteen_years();
    let (_, report) = simulate(
        &scenario,
        &Catalog::default(),
        &period,
        &line_of_stations(100),
    );
    assert_eq!(report.days, 5478);
    let missing = report.missing_fraction();
    assert!((missing - 0.127_937).abs() < 0.01, "{missing}");

    // Late starts (30% of stations, uniform over the first half) and early ends (20%, uniform
    // over the second half) each cost a quarter of the period on average:
    // 0.3 / 4 + 0.2 / 4 = 0.125 of the station-days.
    let mut p = quiet();
    p.gaps.late_start_fraction = 0.3;
    p.gaps.early_end_fraction = 0.2;
    let scenario = equator_scenario(p);
    let (set, report) = simulate(
        &scenario,
        &Catalog::default(),
        &period,
        &line_of_stations(300),
    );
    assert_eq!(
        (set.len(), report.outside_region, report.empty_stations),
        (300, 0, 0)
    );
    let late = set
        .series()
        .iter()
        .filter(|s| s.dates()[0] > period.start())
        .count() as f64
        / 300.0;
    let early = set
        .series()
        .iter()
        .filter(|s| s.dates().last() < Some(&period.date(period.n_days() - 1)))
        .count() as f64
        / 300.0;
    assert!((late - 0.3).abs() < 0.08, "{late}");
    assert!((early - 0.2).abs() < 0.07, "{early}");
    let missing = report.missing_fraction();
    assert!((missing - 0.125).abs() < 0.03, "{missing}");
    // Late starts and early ends are contiguous: no station has a hole.
    for s in set.series() {
        let first = period.day_index(s.dates()[0]).unwrap();
        let last = period.day_index(*s.dates().last().unwrap()).unwrap();
        assert_eq!(s.len(), last - first + 1, "{}", s.station().name);
    }
}

#[test]
fn the_network_is_written_as_tenv3_files_that_read_back() {
    let mut scenario = Scenario::builtin("sichuan").unwrap();
    let mut p = scenario.gnss.params().clone();
    p.layout.n_stations = 12;
    scenario.gnss = p.check().unwrap();
    let catalog = Catalog::from_events(vec![event(
        "2010-06-01T09:00:00Z",
        30.37,
        102.94,
        17.0,
        6.1,
    )]);
    let (set, _) = simulate_network(&scenario, &catalog, &year_2010(), None).unwrap();
    let dir = tempfile::tempdir().unwrap();
    write_network(dir.path(), &set, Overwrite::PreviousNetwork, |_| Ok(())).unwrap();
    let files = std::fs::read_dir(dir.path()).unwrap().count();
    assert_eq!(files, 12 + 1, "twelve stations and the marker");
    for series in set.series() {
        let path = dir.path().join(format!("{}.tenv3", series.station().name));
        let back = read_tenv3(&path, &Tenv3Options::default()).unwrap();
        assert_eq!(back.dates(), series.dates());
        for (a, b) in back.positions().iter().zip(series.positions()) {
            assert!((0..3).all(|c| (a[c] - b[c]).abs() < 1e-6), "{a:?} vs {b:?}");
        }
    }
}

/// A network of one-day stations with the given names.
fn named_network(names: &[&str]) -> StationSet {
    let day = "2020-01-01".parse().unwrap();
    let series = names
        .iter()
        .map(|&name| {
            let station = Station {
                name: name.into(),
                latitude: 35.0,
                longitude: 139.0,
                height_m: 10.0,
            };
            StationSeries::new(station, vec![(day, [0.0, 0.0, 0.0])]).unwrap()
        })
        .collect();
    StationSet::new(series).unwrap()
}

/// The sorted names and contents of the files in `dir`.
fn listing(dir: &std::path::Path) -> Vec<(String, Vec<u8>)> {
    let mut files: Vec<(String, Vec<u8>)> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| {
            let path = e.unwrap().path();
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            (name, std::fs::read(&path).unwrap())
        })
        .collect();
    files.sort();
    files
}

/// The sorted names of the entries of `dir`, folders included.
fn names(dir: &std::path::Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[test]
fn a_killed_synth_gnss_leaves_a_partial_folder_that_the_next_write_removes() {
    let root = tempfile::tempdir().unwrap();
    let out = root.path().join("gnss");
    // What a `synth gnss` killed midway leaves: its hidden staging folder, one station written.
    // No process has the pid 4294967295 (Linux caps pids far lower).
    let killed = root.path().join(".gnss.partial-4294967295-0");
    std::fs::create_dir(&killed).unwrap();
    std::fs::write(killed.join("A001.tenv3"), "half\n").unwrap();
    // An interrupted replacement's `.old-` folder may hold the only copy of a network: kept.
    let old = root.path().join(".gnss.old-4294967295-0");
    std::fs::create_dir(&old).unwrap();
    // This process's own staging folders are never touched.
    let own = root
        .path()
        .join(format!(".gnss.partial-{}-7", std::process::id()));
    std::fs::create_dir(&own).unwrap();
    write_network(
        &out,
        &named_network(&["B001"]),
        Overwrite::PreviousNetwork,
        |_| Ok(()),
    )
    .unwrap();
    let mut left = names(root.path());
    left.sort();
    let mut expected = vec![
        ".gnss.old-4294967295-0".to_string(),
        format!(".gnss.partial-{}-7", std::process::id()),
        "gnss".to_string(),
    ];
    expected.sort();
    assert_eq!(left, expected);
    assert_eq!(names(&out), ["B001.tenv3", NETWORK_MARKER]);
}

#[test]
fn synth_gnss_failing_midway_leaves_the_old_folder_intact_and_no_partial_folder() {
    let root = tempfile::tempdir().unwrap();
    let out = root.path().join("gnss");
    let old = named_network(&["A001", "A002", "A003"]);
    write_network(&out, &old, Overwrite::PreviousNetwork, |dir| {
        std::fs::write(dir.join("precursors.csv"), "old\n").map_err(|e| quakelab::Error::io(dir, e))
    })
    .unwrap();
    let before = listing(&out);
    assert_eq!(
        names(&out),
        [
            "A001.tenv3",
            "A002.tenv3",
            "A003.tenv3",
            "precursors.csv",
            NETWORK_MARKER
        ]
    );
    // A site name with a space cannot be written: the second of three stations fails.
    let failing = named_network(&["B001", "B002 X", "B003"]);
    let err = write_network(&out, &failing, Overwrite::PreviousNetwork, |_| Ok(()))
        .unwrap_err()
        .to_string();
    assert!(err.contains("a tenv3 site name must be one word"), "{err}");
    assert_eq!(listing(&out), before, "the old network is intact");
    assert_eq!(names(root.path()), ["gnss"], "no partial folder is left");
    // A failure after every station was written (the extra files) is undone alike.
    let err = write_network(&out, &named_network(&["C001"]), Overwrite::Any, |_| {
        Err(quakelab::Error::Numerical("injected failure".into()))
    })
    .unwrap_err();
    assert_eq!(err.to_string(), "injected failure");
    assert_eq!(listing(&out), before);
    assert_eq!(names(root.path()), ["gnss"]);
    // Into a new folder, a failure leaves no folder at all.
    let fresh = root.path().join("fresh");
    assert!(write_network(&fresh, &failing, Overwrite::PreviousNetwork, |_| Ok(())).is_err());
    assert!(!fresh.exists());
    assert_eq!(names(root.path()), ["gnss"]);
}

#[test]
fn synth_gnss_into_a_non_empty_folder_is_refused_unless_a_previous_output_or_forced() {
    let root = tempfile::tempdir().unwrap();
    let keep = |_: &std::path::Path| Ok(());
    // A previous output is replaced whole: none of its stations remain beside the new ones.
    let out = root.path().join("gnss");
    write_network(
        &out,
        &named_network(&["A001", "A002"]),
        Overwrite::PreviousNetwork,
        keep,
    )
    .unwrap();
    write_network(
        &out,
        &named_network(&["B001"]),
        Overwrite::PreviousNetwork,
        keep,
    )
    .unwrap();
    assert_eq!(names(&out), ["B001.tenv3", NETWORK_MARKER]);
    // A folder holding something else is refused and left alone...
    let mine = root.path().join("mine");
    std::fs::create_dir(&mine).unwrap();
    std::fs::write(mine.join("notes.txt"), "keep me").unwrap();
    let err = write_network(
        &mine,
        &named_network(&["B001"]),
        Overwrite::PreviousNetwork,
        keep,
    )
    .unwrap_err()
    .to_string();
    assert!(
        err.starts_with("setting `out`: ")
            && err.contains("is a non-empty folder that is not a previous `synth gnss` output")
            && err.contains("give --force to replace it"),
        "{err}"
    );
    assert_eq!(names(&mine), ["notes.txt"]);
    // The same rule can be checked before simulating anything.
    assert!(check_network_output(&mine, Overwrite::PreviousNetwork).is_err());
    assert!(check_network_output(&mine, Overwrite::Any).is_ok());
    assert!(check_network_output(&out, Overwrite::PreviousNetwork).is_ok());
    // ...unless forced, which replaces it whole.
    write_network(&mine, &named_network(&["B001"]), Overwrite::Any, keep).unwrap();
    assert_eq!(names(&mine), ["B001.tenv3", NETWORK_MARKER]);
    // An existing empty folder is simply used; a file in the way is refused.
    let empty = root.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    write_network(
        &empty,
        &named_network(&["B001"]),
        Overwrite::PreviousNetwork,
        keep,
    )
    .unwrap();
    assert_eq!(names(&empty), ["B001.tenv3", NETWORK_MARKER]);
    let file = root.path().join("file");
    std::fs::write(&file, "x").unwrap();
    let err = write_network(&file, &named_network(&["B001"]), Overwrite::Any, keep)
        .unwrap_err()
        .to_string();
    assert!(err.contains("exists and is not a folder"), "{err}");
    assert_eq!(names(root.path()), ["empty", "file", "gnss", "mine"]);
}
