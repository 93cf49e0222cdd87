//! Geometry on the spherical Earth: its radius, great-circle distances and the longitude
//! convention. Every stage that measures a distance or wraps a longitude uses these, so a
//! catalog, a station list and a grid agree on where a point is and how far apart two are.
//!
//! The Earth is a sphere of radius [`EARTH_RADIUS_M`] (the mean radius the GeoViT-PFN paper's
//! haversine distance uses, eq. 5). Longitudes are kept in `[-180, 180)` degrees east.

use std::f64::consts::PI;

/// The Earth's mean radius in metres, the `R` of the paper's haversine distance (eq. 5).
pub const EARTH_RADIUS_M: f64 = 6_371_000.0;

/// The Earth's mean radius in kilometres ([`EARTH_RADIUS_M`] / 1000).
pub const EARTH_RADIUS_KM: f64 = 6_371.0;

/// Kilometres per degree of arc on the sphere (of latitude anywhere, of longitude on the
/// equator): `R · π / 180`.
pub const KM_PER_DEGREE: f64 = EARTH_RADIUS_KM * PI / 180.0;

/// The central angle in radians between two points given as latitude and longitude in degrees,
/// by the haversine formula of eqs. (5)–(6): `a = sin²(Δφ/2) + cos φ1 cos φ2 sin²(Δλ/2)`,
/// angle `= 2 atan2(√a, √(1 − a))`. Accurate at every range, short distances included.
pub fn central_angle(lat1: f64, lon1: f64, lat2: f64, lon2: f64) -> f64 {
    let (p1, p2) = (lat1.to_radians(), lat2.to_radians());
    central_angle_of(
        half_dphi_sin(p1, p2),
        p1.cos() * p2.cos(),
        half_dlam_sin(lon1, lon2),
    )
}

/// `sin(Δφ/2)` of [`central_angle`], from the latitudes in radians.
pub fn half_dphi_sin(p1: f64, p2: f64) -> f64 {
    (0.5 * (p2 - p1)).sin()
}

/// `sin(Δλ/2)` of [`central_angle`], from the longitudes in degrees.
pub fn half_dlam_sin(lon1: f64, lon2: f64) -> f64 {
    (0.5 * (lon2 - lon1).to_radians()).sin()
}

/// [`central_angle`] from its parts: `sin(Δφ/2)`, `cos φ1 cos φ2` and `sin(Δλ/2)`. A caller that
/// measures many pairs sharing a latitude or a longitude (a grid's rows and columns) computes
/// each part once, and gets the same angle, to the bit.
pub fn central_angle_of(half_dphi_sin: f64, cos_product: f64, half_dlam_sin: f64) -> f64 {
    let a = half_dphi_sin.powi(2) + cos_product * half_dlam_sin.powi(2);
    // Rounding can push `a` a hair outside [0, 1] for antipodal or identical points.
    let a = a.clamp(0.0, 1.0);
    2.0 * a.sqrt().atan2((1.0 - a).sqrt())
}

/// The great-circle (haversine) distance in metres between two points given in degrees,
/// eqs. (5)–(6): `R ·` [`central_angle`].
pub fn haversine_m(lat1: f64, lon1: f64, lat2: f64, lon2: f64) -> f64 {
    EARTH_RADIUS_M * central_angle(lat1, lon1, lat2, lon2)
}

/// The great-circle (haversine) distance in kilometres between two points given in degrees.
pub fn haversine_km(lat1: f64, lon1: f64, lat2: f64, lon2: f64) -> f64 {
    EARTH_RADIUS_KM * central_angle(lat1, lon1, lat2, lon2)
}

/// Wraps a longitude into `[-180, 180)`: `((lon + 180) mod 360) − 180`. The antimeridian is
/// `-180`: both 180 and −180 give −180, and so does 540.
///
/// A longitude already in range is returned unchanged, bit for bit (the arithmetic would
/// otherwise turn 140.568 into 140.56799999999998). NGL station lists and some catalogs use
/// `[0, 360)` or negative western longitudes below −180; all map here.
pub fn normalize_longitude(longitude: f64) -> f64 {
    if (-180.0..180.0).contains(&longitude) {
        return longitude;
    }
    let wrapped = (longitude + 180.0).rem_euclid(360.0) - 180.0;
    // rem_euclid of a tiny negative number can round up to exactly 360.
    if wrapped >= 180.0 {
        wrapped - 360.0
    } else {
        wrapped
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64, tolerance: f64) {
        assert!((a - b).abs() <= tolerance, "{a} vs {b}");
    }

    #[test]
    fn distances_along_a_meridian_and_the_equator_are_r_times_the_angle() {
        // Along a meridian or the equator the great circle is the coordinate line itself, so
        // the distance is R · Δ(radians).
        let one_degree_m = 6_371_000.0 * PI / 180.0;
        close(haversine_m(10.0, 20.0, 11.0, 20.0), one_degree_m, 1e-6);
        close(haversine_m(0.0, 20.0, 0.0, 23.0), 3.0 * one_degree_m, 1e-6);
        close(haversine_km(0.0, 0.0, 0.0, 1.0), KM_PER_DEGREE, 1e-9);
        close(KM_PER_DEGREE, 111.194_926_644_558_73, 1e-9);
        // Across the antimeridian: 179.5°E to 179.5°W on the equator is one degree.
        close(haversine_m(0.0, 179.5, 0.0, -179.5), one_degree_m, 1e-6);
    }

    #[test]
    fn pole_to_equator_antipodes_and_a_point_to_itself() {
        // A quarter and a half of a great circle: π/2 and π.
        close(central_angle(90.0, 0.0, 0.0, 77.0), PI / 2.0, 1e-12);
        close(central_angle(0.0, 0.0, 0.0, 180.0), PI, 1e-12);
        close(central_angle(35.0, 140.0, -35.0, -40.0), PI, 1e-7);
        assert_eq!(haversine_m(35.0, 140.0, 35.0, 140.0), 0.0);
    }

    #[test]
    fn a_point_on_a_parallel_follows_the_spherical_law_of_cosines() {
        // On latitude φ, two points Δλ apart: cos c = sin²φ + cos²φ cos Δλ (closed form).
        let (phi, dlam) = (60f64.to_radians(), 90f64.to_radians());
        let expected = (phi.sin().powi(2) + phi.cos().powi(2) * dlam.cos()).acos();
        close(central_angle(60.0, 0.0, 60.0, 90.0), expected, 1e-12);
        close(
            haversine_km(60.0, 0.0, 60.0, 90.0),
            EARTH_RADIUS_KM * expected,
            1e-6,
        );
    }

    #[test]
    fn longitudes_wrap_into_minus_180_to_180() {
        close(normalize_longitude(-268.896), 91.104, 1e-9);
        close(normalize_longitude(-234.556), 125.444, 1e-9);
        assert_eq!(normalize_longitude(234.5), -125.5);
        assert_eq!(normalize_longitude(359.0), -1.0);
        assert_eq!(normalize_longitude(180.0), -180.0);
        assert_eq!(normalize_longitude(-180.0), -180.0);
        assert_eq!(normalize_longitude(540.0), -180.0);
        assert_eq!(normalize_longitude(142.373), 142.373);
        assert!(normalize_longitude(-1e-20) < 180.0);
        assert!(normalize_longitude(f64::NAN).is_nan());
    }
}
