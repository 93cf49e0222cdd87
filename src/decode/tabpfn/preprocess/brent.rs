//! Brent's bounded scalar minimiser, step for step as SciPy's `fminbound`
//! (`_minimize_scalar_bounded`): golden-section steps, parabolic steps when they are safe,
//! stopping when the bracket around the best point is within `2 (√ε |x| + xtol / 3)`.
//!
//! The package finds the Yeo-Johnson λ with it (`xtol = 1.48e-8`, at most 500 evaluations);
//! following SciPy's steps exactly keeps our λ on the package's, not merely within `xtol`.

/// The largest number of function evaluations (SciPy's default `maxfun`).
const MAX_EVALUATIONS: usize = 500;

/// The point of `[lower, upper]` where `f` is least, found to about `xtol` (as `fminbound`
/// returns it, also when the evaluation budget runs out).
pub fn fminbound(mut f: impl FnMut(f64) -> f64, lower: f64, upper: f64, xtol: f64) -> f64 {
    let sqrt_eps = 2.2e-16f64.sqrt();
    let golden_mean = 0.5 * (3.0 - 5.0f64.sqrt());
    let (mut a, mut b) = (lower, upper);
    let mut fulc = a + golden_mean * (b - a);
    let mut nfc = fulc;
    let mut xf = fulc;
    let mut rat = 0.0f64;
    let mut e = 0.0f64;
    let mut fx = f(xf);
    let mut evaluations = 1;
    let mut ffulc = fx;
    let mut fnfc = fx;
    let mut xm = 0.5 * (a + b);
    let mut tol1 = sqrt_eps * xf.abs() + xtol / 3.0;
    let mut tol2 = 2.0 * tol1;

    while (xf - xm).abs() > tol2 - 0.5 * (b - a) {
        let mut golden = true;
        if e.abs() > tol1 {
            golden = false;
            let mut r = (xf - nfc) * (fx - ffulc);
            let mut q = (xf - fulc) * (fx - fnfc);
            let mut p = (xf - fulc) * q - (xf - nfc) * r;
            q = 2.0 * (q - r);
            if q > 0.0 {
                p = -p;
            }
            q = q.abs();
            r = e;
            e = rat;
            if p.abs() < (0.5 * q * r).abs() && p > q * (a - xf) && p < q * (b - xf) {
                rat = (p + 0.0) / q;
                let x = xf + rat;
                if (x - a) < tol2 || (b - x) < tol2 {
                    rat = tol1 * sign_or_one(xm - xf);
                }
            } else {
                golden = true;
            }
        }
        if golden {
            e = if xf >= xm { a - xf } else { b - xf };
            rat = golden_mean * e;
        }
        let x = xf + sign_or_one(rat) * rat.abs().max(tol1);
        let fu = f(x);
        evaluations += 1;
        if fu <= fx {
            if x >= xf {
                a = xf;
            } else {
                b = xf;
            }
            fulc = nfc;
            ffulc = fnfc;
            nfc = xf;
            fnfc = fx;
            xf = x;
            fx = fu;
        } else {
            if x < xf {
                a = x;
            } else {
                b = x;
            }
            if fu <= fnfc || nfc == xf {
                fulc = nfc;
                ffulc = fnfc;
                nfc = x;
                fnfc = fu;
            } else if fu <= ffulc || fulc == xf || fulc == nfc {
                fulc = x;
                ffulc = fu;
            }
        }
        xm = 0.5 * (a + b);
        tol1 = sqrt_eps * xf.abs() + xtol / 3.0;
        tol2 = 2.0 * tol1;
        if evaluations >= MAX_EVALUATIONS {
            break;
        }
    }
    xf
}

/// NumPy's `sign(v) + (v == 0)`: −1 below zero, 1 from zero up, NaN for NaN.
fn sign_or_one(v: f64) -> f64 {
    if v < 0.0 {
        -1.0
    } else if v.is_nan() {
        v
    } else {
        1.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_parabola_s_vertex_inside_the_bounds_is_found() {
        let x = fminbound(|x| (x - 1.25).powi(2) + 3.0, -4.0, 10.0, 1.48e-8);
        assert!((x - 1.25).abs() < 1e-7, "{x}");
    }

    #[test]
    fn a_minimum_outside_the_bounds_ends_at_the_nearest_bound() {
        let x = fminbound(|x| (x + 5.0).powi(2), 0.0, 2.0, 1e-10);
        assert!((0.0..1e-8).contains(&x), "{x}");
    }

    #[test]
    fn a_non_quadratic_minimum_is_found() {
        // cosh(x - 0.3) + x⁴ / 10 has its minimum where sinh(x - 0.3) + 0.4 x³ = 0.
        let x = fminbound(|x| (x - 0.3).cosh() + x.powi(4) / 10.0, -3.0, 3.0, 1e-10);
        assert!(((x - 0.3).sinh() + 0.4 * x.powi(3)).abs() < 1e-8, "{x}");
    }
}
