//! The synthetic geomagnetic network: layout, reproducibility, the `null` scenario, where and
//! when anomalies are planted, storms, and the background's calibration on the Boulder files.

use jiff::Timestamp;
use quakelab::catalog::Event;
use quakelab::geo::{KM_PER_DEGREE, haversine_km};
use quakelab::io::geomag::{daily_field, read_iaga2002, series_from_iaga};
use quakelab::period::Period;
use quakelab::synth::Scenario;
use quakelab::synth::geomag::{
    BOU_DAY_TO_DAY_NT, BOU_STORM_DROP_NT, GeomagScenario, network_layout, simulate_geomag,
};

use crate::support;

const CENTRE: (f64, f64) = (28.10, 102.16);

fn year() -> Period {
    Period::parse("2020-01-01", "2021-01-01").unwrap()
}

/// An event at noon UTC of day `day` of 2020.
fn event(day: i64, latitude: f64, longitude: f64, magnitude: f64) -> Event {
    let start: Timestamp = "2020-01-01T12:00:00Z".parse().unwrap();
    Event {
        time: start + jiff::SignedDuration::from_hours(24 * day),
        latitude,
        longitude,
        depth_km: Some(10.0),
        magnitude,
    }
}

#[test]
fn the_network_has_25_stations_over_the_stated_area() {
    let scenario = GeomagScenario::default();
    assert_eq!((scenario.centre, scenario.radius_km), (CENTRE, 400.0));
    let stations = network_layout(&scenario, 7).unwrap();
    assert_eq!(stations.len(), 25);
    let half_side = 14_000f64.sqrt() / 2.0;
    let km_per_deg_lon = KM_PER_DEGREE * CENTRE.0.to_radians().cos();
    let (mut xs, mut ys) = (Vec::new(), Vec::new());
    for s in &stations {
        let x = (s.longitude - CENTRE.1) * km_per_deg_lon;
        let y = (s.latitude - CENTRE.0) * KM_PER_DEGREE;
        assert!(x.abs() <= half_side && y.abs() <= half_side, "{s:?}");
        xs.push(x);
        ys.push(y);
    }
    let span = |v: &[f64]| {
        v.iter().copied().fold(f64::MIN, f64::max) - v.iter().copied().fold(f64::MAX, f64::min)
    };
    // Stations fill the square: inside it, and spread over most of it.
    let covered = span(&xs) * span(&ys);
    assert!(covered > 0.4 * 14_000.0 && covered <= 14_000.0, "{covered}");
    let mut codes: Vec<_> = stations.iter().map(|s| s.code.clone()).collect();
    codes.dedup();
    assert_eq!(codes.len(), 25);
}

#[test]
fn same_seed_same_field_other_seed_other_field() {
    let scenario = GeomagScenario::default();
    let events = [event(100, 28.5, 102.3, 4.5)];
    let (a, ta) = simulate_geomag(&scenario, &events, &year(), 3).unwrap();
    let (b, tb) = simulate_geomag(&scenario, &events, &year(), 3).unwrap();
    assert_eq!(a, b);
    assert_eq!(ta, tb);
    let (c, _) = simulate_geomag(&scenario, &events, &year(), 4).unwrap();
    assert_ne!(a.values(), c.values());
    assert_eq!((a.n_days(), a.n_stations(), a.n_missing()), (366, 25, 0));
}

#[test]
fn the_null_scenario_is_the_planted_background_without_anomalies() {
    let events = [
        event(40, 28.6, 102.2, 4.5),
        event(41, 27.6, 102.0, 3.8),
        event(200, 29.0, 103.0, 5.2),
    ];
    let (planted, truth) =
        simulate_geomag(&GeomagScenario::default(), &events, &year(), 11).unwrap();
    let (null, null_truth) =
        simulate_geomag(&GeomagScenario::null(), &events, &year(), 11).unwrap();
    assert!(null_truth.anomalies.is_empty());
    assert_eq!(truth.anomalies.len(), 3);
    assert_eq!(truth.storms, null_truth.storms);
    let n = planted.n_stations();
    for d in 0..planted.n_days() {
        for s in 0..n {
            let planted_here: f64 = truth
                .anomalies
                .iter()
                .filter(|a| a.days.contains(&d))
                .map(|a| a.peak_nt[s])
                .sum();
            let (p, q) = (planted.day(d)[s], null.day(d)[s]);
            if planted_here == 0.0 {
                assert_eq!(p, q, "day {d} station {s}");
            } else {
                assert!((p - q - planted_here).abs() < 1e-9, "day {d} station {s}");
            }
        }
    }
}

#[test]
fn anomalies_come_only_on_the_declared_days_before_events_within_the_radius() {
    // About 500 km north of the centre (4.5 degrees of latitude), and an M 3.0 (not above 3).
    let far = event(60, CENTRE.0 + 4.5, CENTRE.1, 5.5);
    let small = event(120, CENTRE.0 + 0.1, CENTRE.1, 3.0);
    let near = event(30, CENTRE.0 + 0.4, CENTRE.1, 4.5);
    assert!(haversine_km(CENTRE.0, CENTRE.1, far.latitude, far.longitude) > 400.0);
    let events = [far, small, near];
    let scenario = GeomagScenario::default();
    let (planted, truth) = simulate_geomag(&scenario, &events, &year(), 5).unwrap();
    let (null, _) = simulate_geomag(&GeomagScenario::null(), &events, &year(), 5).unwrap();
    assert_eq!(truth.anomalies.len(), 1);
    let anomaly = &truth.anomalies[0];
    assert_eq!((anomaly.event, anomaly.event_day), (2, 30));
    let lead = anomaly.days.len();
    assert!((3..=7).contains(&lead), "{lead}");
    assert_eq!(anomaly.days.end, 30);
    for d in 0..planted.n_days() {
        let differs = planted.day(d) != null.day(d);
        assert_eq!(differs, anomaly.days.contains(&d), "day {d}");
    }
    // The documented amplitude: 10 nT x 10^(0.5 (4.5 - 4)) x exp(-r / 100 km).
    let stations = planted.stations();
    for (s, station) in stations.iter().enumerate() {
        let r = haversine_km(
            station.latitude,
            station.longitude,
            near.latitude,
            near.longitude,
        );
        let expected = 10.0 * 10f64.powf(0.25) * (-r / 100.0).exp();
        assert!((anomaly.peak_nt[s] - expected).abs() < 1e-9 * expected);
    }
}

/// The mean anomaly of the northernmost and the southernmost row of the 5 x 5 grid.
fn north_and_south(peak: &[f64]) -> (f64, f64) {
    let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
    (mean(&peak[20..25]), mean(&peak[0..5]))
}

#[test]
fn the_anomaly_is_largest_toward_the_epicentre_and_grows_with_magnitude() {
    let events = [
        event(50, CENTRE.0 + 1.5, CENTRE.1, 4.5),
        event(100, CENTRE.0 - 1.5, CENTRE.1, 4.5),
        event(150, CENTRE.0 + 1.5, CENTRE.1, 3.5),
    ];
    let (_, truth) = simulate_geomag(&GeomagScenario::default(), &events, &year(), 9).unwrap();
    let [north, south, smaller] = &truth.anomalies[..] else {
        panic!("three anomalies expected, got {}", truth.anomalies.len());
    };
    let (n, s) = north_and_south(&north.peak_nt);
    assert!(n > 1.5 * s, "north event: north row {n}, south row {s}");
    let (n, s) = north_and_south(&south.peak_nt);
    assert!(s > 1.5 * n, "south event: north row {n}, south row {s}");
    // Same place, one magnitude unit apart: 10^0.5 times the anomaly at every station.
    for (a, b) in north.peak_nt.iter().zip(&smaller.peak_nt) {
        assert!((a / b - 10f64.sqrt()).abs() < 1e-9);
    }
}

#[test]
fn a_storm_shifts_every_station_together() {
    let scenario = GeomagScenario {
        noise_nt: 0.0,
        day_to_day_nt: 0.0,
        drift_nt_per_year: 0.0,
        drift_spread_nt_per_year: 0.0,
        ..GeomagScenario::null()
    };
    let (field, truth) = simulate_geomag(&scenario, &[], &year(), 21).unwrap();
    assert!(truth.storms.len() >= 3, "{}", truth.storms.len());
    for d in 0..field.n_days() {
        // The storms' sum on day d, from the truth: -A e^(-(d - d_k) / 2 days) after each onset.
        let storm: f64 = truth
            .storms
            .iter()
            .filter(|k| k.onset_day <= d)
            .map(|k| -k.amplitude_nt * (-((d - k.onset_day) as f64) / 2.0).exp())
            .sum();
        let storm_0: f64 = truth
            .storms
            .iter()
            .filter(|k| k.onset_day == 0)
            .map(|k| -k.amplitude_nt)
            .sum();
        for s in 0..field.n_stations() {
            let shift = field.day(d)[s] - field.day(0)[s];
            assert!(
                (shift - (storm - storm_0)).abs() < 1e-6,
                "day {d} station {s}"
            );
        }
    }
}

#[test]
fn the_sichuan_scenario_has_the_papers_network() {
    let sichuan = Scenario::builtin("sichuan").unwrap();
    let geomag = sichuan.geomag.expect("a [geomag] section");
    assert_eq!(geomag.centre, CENTRE);
    assert_eq!((geomag.n_stations, geomag.area_km2), (25, 14_000.0));
    assert_eq!((geomag.radius_km, geomag.min_magnitude), (400.0, 3.0));
    assert!(geomag.strength > 0.0);
    assert!(Scenario::builtin("japan").unwrap().geomag.is_none());
}

#[test]
fn a_bad_geomag_setting_in_a_scenario_file_names_its_key() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.toml");
    let text = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("experiments/scenarios/sichuan.toml"),
    )
    .unwrap()
    .replacen("radius_km = 400.0", "radius_km = -1.0", 1);
    std::fs::write(&path, text).unwrap();
    match Scenario::load(path.to_str().unwrap()) {
        Err(quakelab::Error::Config { key, .. }) => assert_eq!(key, "geomag.radius_km"),
        other => panic!("expected a config error, got {other:?}"),
    }
}

#[test]
#[cfg_attr(
    not(quakelab_real_data),
    ignore = "real data directory not found: set QUAKELAB_REAL_DATA"
)]
fn the_background_constants_match_the_boulder_files() {
    let files: Vec<_> = (1..=7)
        .map(|d| {
            read_iaga2002(&support::real_data(&format!(
                "geomag/bou201411{d:02}vmin.min"
            )))
            .unwrap()
        })
        .collect();
    let series = series_from_iaga(&files).unwrap();
    let period = Period::parse("2014-11-01", "2014-11-08").unwrap();
    let (field, _) = daily_field(&series, &[files[0].station.clone()], 'F', &period, 1440).unwrap();
    let means: Vec<f64> = (0..7).map(|d| field.day(d)[0]).collect();
    // Day-to-day: the sample standard deviation of the six changes, over sqrt(2).
    let changes: Vec<f64> = means.windows(2).map(|w| w[1] - w[0]).collect();
    let mean_change = changes.iter().sum::<f64>() / 6.0;
    let var = changes
        .iter()
        .map(|c| (c - mean_change).powi(2))
        .sum::<f64>()
        / 5.0;
    let day_to_day = (var / 2.0).sqrt();
    // Storm drop: the largest fall below the running maximum.
    let mut peak = f64::MIN;
    let mut drop = 0.0f64;
    for &m in &means {
        peak = peak.max(m);
        drop = drop.max(peak - m);
    }
    // The constants are these numbers rounded to 0.1 nT.
    assert!(
        (day_to_day - BOU_DAY_TO_DAY_NT).abs() < 0.05,
        "{day_to_day}"
    );
    assert!((drop - BOU_STORM_DROP_NT).abs() < 0.05, "{drop}");
    let defaults = GeomagScenario::default();
    assert_eq!(defaults.day_to_day_nt, BOU_DAY_TO_DAY_NT);
    assert_eq!(defaults.storm_amplitude_nt, BOU_STORM_DROP_NT);
}
