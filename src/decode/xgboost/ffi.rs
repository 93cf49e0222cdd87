//! A thin binding to XGBoost's stable C API (`c_api.h`), loaded at run time from the official
//! wheel's `libxgboost.so`.
//!
//! Only the calls the Python package makes for `xgb.train` and `Booster.predict` are bound, with
//! the same arguments: a dense matrix and its labels given as array interfaces of `f64` (the
//! library casts them to `f32` as it does for a float64 numpy array), parameters as text,
//! one `XGBoosterUpdateOneIter` per round, `XGBoosterEvalOneIter` for early stopping and
//! `XGBoosterPredictFromDMatrix` with a JSON configuration.
//!
//! The library is opened once per process. Its log callback is registered per thread (XGBoost
//! keeps it in thread-local storage) before each call into the library; it forwards every line
//! to [`booster::library_log`] and, while a [`LogCapture`] is alive on that thread, keeps the
//! lines for the caller to inspect.

use std::cell::{Cell, RefCell};
use std::ffi::{CStr, CString, c_char, c_int, c_void};
use std::path::Path;
use std::sync::OnceLock;

use faer::MatRef;
use libloading::Library;

use crate::decode::booster;
use crate::{Error, Result};

/// The decoder's name, as errors and log lines give it.
const DECODER: &str = "xgboost";

/// The library inside the venv's site-packages.
const LIBRARY_FILE: &str = "xgboost/lib/libxgboost.so";

/// The major version this binding is written for.
const MAJOR_VERSION: c_int = 3;

type Handle = *mut c_void;
type BstUlong = u64;

/// The C functions used, resolved once.
pub(super) struct Xgb {
    get_last_error: unsafe extern "C" fn() -> *const c_char,
    register_log_callback: unsafe extern "C" fn(extern "C" fn(*const c_char)) -> c_int,
    set_global_config: unsafe extern "C" fn(*const c_char) -> c_int,
    dmatrix_create_from_dense:
        unsafe extern "C" fn(*const c_char, *const c_char, *mut Handle) -> c_int,
    dmatrix_set_info_from_interface:
        unsafe extern "C" fn(Handle, *const c_char, *const c_char) -> c_int,
    dmatrix_free: unsafe extern "C" fn(Handle) -> c_int,
    booster_create: unsafe extern "C" fn(*const Handle, BstUlong, *mut Handle) -> c_int,
    booster_free: unsafe extern "C" fn(Handle) -> c_int,
    booster_reset: unsafe extern "C" fn(Handle) -> c_int,
    booster_set_param: unsafe extern "C" fn(Handle, *const c_char, *const c_char) -> c_int,
    booster_update_one_iter: unsafe extern "C" fn(Handle, c_int, Handle) -> c_int,
    booster_eval_one_iter: unsafe extern "C" fn(
        Handle,
        c_int,
        *const Handle,
        *const *const c_char,
        BstUlong,
        *mut *const c_char,
    ) -> c_int,
    booster_predict_from_dmatrix: unsafe extern "C" fn(
        Handle,
        Handle,
        *const c_char,
        *mut *const BstUlong,
        *mut BstUlong,
        *mut *const f32,
    ) -> c_int,
    booster_feature_score: unsafe extern "C" fn(
        Handle,
        *const c_char,
        *mut BstUlong,
        *mut *const *const c_char,
        *mut BstUlong,
        *mut *const BstUlong,
        *mut *const f32,
    ) -> c_int,
    /// Kept open for the life of the process: the function pointers above point into it.
    _library: Library,
}

static LIBRARY: OnceLock<Xgb> = OnceLock::new();

/// The library, opened on first use from the boosters' venv
/// ([`booster::library_file`]); the actionable error when it is missing.
pub(super) fn library() -> Result<&'static Xgb> {
    if let Some(xgb) = LIBRARY.get() {
        return Ok(xgb);
    }
    let path = booster::library_file(DECODER, LIBRARY_FILE)?;
    let loaded = Xgb::open(&path)?;
    Ok(LIBRARY.get_or_init(|| loaded))
}

/// The path of the library, or the actionable error when it is missing (opens nothing).
pub(super) fn library_path() -> Result<std::path::PathBuf> {
    booster::library_file(DECODER, LIBRARY_FILE)
}

fn external(message: impl Into<String>) -> Error {
    Error::External {
        service: DECODER.to_string(),
        message: message.into(),
    }
}

/// A function of the library, as the pointer type `T`.
fn symbol<T: Copy>(library: &Library, path: &Path, name: &str) -> Result<T> {
    // SAFETY: every `T` this module asks for is the `unsafe extern "C" fn` type that c_api.h
    // declares for `name`.
    unsafe { library.get::<T>(name) }
        .map(|symbol| *symbol)
        .map_err(|e| {
            external(format!(
                "{} has no function {name} ({e}); it is not the XGBoost {MAJOR_VERSION}.x \
                 library quakelab expects: reinstall it with `tools/install-boosters.sh`",
                path.display()
            ))
        })
}

impl Xgb {
    fn open(path: &Path) -> Result<Self> {
        // SAFETY: loading runs the library's initialisers; libxgboost.so from the official
        // wheel has no initialiser with preconditions on the caller.
        let library = unsafe { Library::new(path.as_os_str()) }
            .map_err(|e| external(format!("cannot load {}: {e}", path.display())))?;
        let version_fn: unsafe extern "C" fn(*mut c_int, *mut c_int, *mut c_int) =
            symbol(&library, path, "XGBoostVersion")?;
        let mut version = (0, 0, 0);
        // SAFETY: XGBoostVersion writes three ints through the pointers given.
        unsafe { version_fn(&mut version.0, &mut version.1, &mut version.2) };
        if version.0 != MAJOR_VERSION {
            return Err(external(format!(
                "{} is XGBoost {}.{}.{}, but quakelab's binding is written for XGBoost \
                 {MAJOR_VERSION}.x: reinstall the pinned wheels with `tools/install-boosters.sh`",
                path.display(),
                version.0,
                version.1,
                version.2
            )));
        }
        booster::library_log(
            DECODER,
            &format!(
                "loaded XGBoost {}.{}.{} from {}",
                version.0,
                version.1,
                version.2,
                path.display()
            ),
        );
        Ok(Xgb {
            get_last_error: symbol(&library, path, "XGBGetLastError")?,
            register_log_callback: symbol(&library, path, "XGBRegisterLogCallback")?,
            set_global_config: symbol(&library, path, "XGBSetGlobalConfig")?,
            dmatrix_create_from_dense: symbol(&library, path, "XGDMatrixCreateFromDense")?,
            dmatrix_set_info_from_interface: symbol(
                &library,
                path,
                "XGDMatrixSetInfoFromInterface",
            )?,
            dmatrix_free: symbol(&library, path, "XGDMatrixFree")?,
            booster_create: symbol(&library, path, "XGBoosterCreate")?,
            booster_free: symbol(&library, path, "XGBoosterFree")?,
            booster_reset: symbol(&library, path, "XGBoosterReset")?,
            booster_set_param: symbol(&library, path, "XGBoosterSetParam")?,
            booster_update_one_iter: symbol(&library, path, "XGBoosterUpdateOneIter")?,
            booster_eval_one_iter: symbol(&library, path, "XGBoosterEvalOneIter")?,
            booster_predict_from_dmatrix: symbol(&library, path, "XGBoosterPredictFromDMatrix")?,
            booster_feature_score: symbol(&library, path, "XGBoosterFeatureScore")?,
            _library: library,
        })
    }

    /// `Ok` for a return code of 0, else the library's last error as [`Error::External`].
    fn check(&self, code: c_int) -> Result<()> {
        if code == 0 {
            return Ok(());
        }
        // SAFETY: XGBGetLastError returns a NUL-terminated thread-local string (or null).
        let message = unsafe {
            let text = (self.get_last_error)();
            if text.is_null() {
                String::from("an unknown error (XGBGetLastError gave nothing)")
            } else {
                CStr::from_ptr(text).to_string_lossy().trim().to_string()
            }
        };
        Err(external(message))
    }

    /// Registers the log callback on this thread (once per thread), and sets the thread's
    /// verbosity back to the library's default of 1 (warnings) unless `keep_verbosity`:
    /// XGBoost keeps a booster's `verbosity` in thread-local global state after a fit.
    pub(super) fn enter(&self, keep_verbosity: bool) -> Result<()> {
        thread_local! {
            static REGISTERED: Cell<bool> = const { Cell::new(false) };
        }
        if !REGISTERED.get() {
            // SAFETY: `forward_log` is an `extern "C"` function that lives for the program.
            self.check(unsafe { (self.register_log_callback)(forward_log) })?;
            REGISTERED.set(true);
        }
        if !keep_verbosity {
            let config = c_string(r#"{"verbosity": 1}"#)?;
            // SAFETY: a NUL-terminated JSON text, read during the call.
            self.check(unsafe { (self.set_global_config)(config.as_ptr()) })?;
        }
        Ok(())
    }
}

fn c_string(text: &str) -> Result<CString> {
    CString::new(text).map_err(|_| external(format!("text with a NUL byte: {text:?}")))
}

thread_local! {
    static CAPTURED: RefCell<Option<Vec<String>>> = const { RefCell::new(None) };
}

/// The log callback: every line to [`booster::library_log`], and to the capture of this thread
/// when one is running. It never unwinds into the library.
extern "C" fn forward_log(message: *const c_char) {
    let _ = std::panic::catch_unwind(|| {
        if message.is_null() {
            return;
        }
        // SAFETY: XGBoost passes a NUL-terminated string valid for the call.
        let text = unsafe { CStr::from_ptr(message) }.to_string_lossy();
        booster::library_log(DECODER, &text);
        CAPTURED.with(|captured| {
            if let Ok(mut captured) = captured.try_borrow_mut()
                && let Some(lines) = captured.as_mut()
            {
                lines.push(text.into_owned());
            }
        });
    });
}

/// Keeps the library's log lines written on this thread while it lives.
pub(super) struct LogCapture(());

impl LogCapture {
    /// Starts keeping this thread's log lines.
    pub(super) fn start() -> Self {
        CAPTURED.with(|captured| *captured.borrow_mut() = Some(Vec::new()));
        LogCapture(())
    }

    /// The lines kept since the last call.
    pub(super) fn take(&self) -> Vec<String> {
        CAPTURED.with(|captured| {
            captured
                .borrow_mut()
                .as_mut()
                .map(std::mem::take)
                .unwrap_or_default()
        })
    }
}

impl Drop for LogCapture {
    fn drop(&mut self) {
        CAPTURED.with(|captured| *captured.borrow_mut() = None);
    }
}

/// An array interface (version 3) of `len` contiguous `f64` at `data`, with `shape`.
fn array_interface(data: *const f64, shape: &[usize]) -> String {
    let shape: Vec<String> = shape.iter().map(usize::to_string).collect();
    format!(
        r#"{{"data": [{}, true], "shape": [{}], "strides": null, "typestr": "<f8", "version": 3}}"#,
        data as usize,
        shape.join(", ")
    )
}

/// A DMatrix, freed on drop.
pub(super) struct DMatrix {
    xgb: &'static Xgb,
    handle: Handle,
}

impl DMatrix {
    /// The rows of `x` as a dense DMatrix with NaN as the missing value, as
    /// `xgb.DMatrix(x)` makes it from a float64 numpy array (the library reads the `f64`
    /// values and stores them as `f32`). `threads` load it.
    pub(super) fn dense(xgb: &'static Xgb, x: MatRef<'_, f64>, threads: usize) -> Result<Self> {
        let (n, p) = (x.nrows(), x.ncols());
        let row_major = crate::decode::booster::row_major(x);
        let data = c_string(&array_interface(row_major.as_ptr(), &[n, p]))?;
        let config = c_string(&format!(
            r#"{{"missing": NaN, "nthread": {threads}, "data_split_mode": 0}}"#
        ))?;
        let mut handle: Handle = std::ptr::null_mut();
        // SAFETY: the array interface describes `row_major`, alive and unchanged during the
        // call, which copies it; the texts are NUL-terminated.
        xgb.check(unsafe {
            (xgb.dmatrix_create_from_dense)(data.as_ptr(), config.as_ptr(), &mut handle)
        })?;
        Ok(DMatrix { xgb, handle })
    }

    /// Sets the labels (one per row), given as `f64` as the Python package gives them.
    pub(super) fn set_labels(&self, y: &[f64]) -> Result<()> {
        let field = c_string("label")?;
        let data = c_string(&array_interface(y.as_ptr(), &[y.len()]))?;
        // SAFETY: the interface describes `y`, alive during the call, which copies it.
        self.xgb.check(unsafe {
            (self.xgb.dmatrix_set_info_from_interface)(self.handle, field.as_ptr(), data.as_ptr())
        })
    }
}

impl Drop for DMatrix {
    fn drop(&mut self) {
        // SAFETY: the handle came from XGDMatrixCreateFromDense and is freed once.
        let code = unsafe { (self.xgb.dmatrix_free)(self.handle) };
        if code != 0 {
            booster::library_log(DECODER, "XGDMatrixFree failed");
        }
    }
}

/// A booster, freed on drop.
pub(super) struct Booster {
    xgb: &'static Xgb,
    handle: Handle,
}

// SAFETY: the booster handle is owned by this value alone and XGBoost's learner has no
// affinity to the thread that created it; the decoder keeps it behind a `Mutex`, so calls into
// it never overlap.
unsafe impl Send for Booster {}

/// One prediction: `rows` × `width` outputs, row-major.
pub(super) struct Outputs {
    pub(super) values: Vec<f32>,
    pub(super) width: usize,
}

impl Booster {
    /// A booster caching `matrices` (the training matrix first), as `xgb.Booster(params,
    /// [dtrain] + evals)` creates it.
    pub(super) fn new(xgb: &'static Xgb, matrices: &[&DMatrix]) -> Result<Self> {
        let handles: Vec<Handle> = matrices.iter().map(|m| m.handle).collect();
        let mut handle: Handle = std::ptr::null_mut();
        // SAFETY: `handles` holds live DMatrix handles; the length matches.
        xgb.check(unsafe {
            (xgb.booster_create)(handles.as_ptr(), handles.len() as BstUlong, &mut handle)
        })?;
        Ok(Booster { xgb, handle })
    }

    /// `XGBoosterSetParam(name, value)`.
    pub(super) fn set_param(&self, name: &str, value: &str) -> Result<()> {
        let (name, value) = (c_string(name)?, c_string(value)?);
        // SAFETY: a live booster and NUL-terminated texts read during the call.
        self.xgb.check(unsafe {
            (self.xgb.booster_set_param)(self.handle, name.as_ptr(), value.as_ptr())
        })
    }

    /// One boosting round, `iteration` counted from 0.
    pub(super) fn update(&self, iteration: usize, train: &DMatrix) -> Result<()> {
        let iteration = round_index(iteration)?;
        // SAFETY: a live booster and DMatrix.
        self.xgb.check(unsafe {
            (self.xgb.booster_update_one_iter)(self.handle, iteration, train.handle)
        })
    }

    /// The evaluation line of round `iteration` on `matrix` called `name`
    /// (`[3]\tvalid-rmse:0.41...`).
    pub(super) fn evaluate(
        &self,
        iteration: usize,
        matrix: &DMatrix,
        name: &str,
    ) -> Result<String> {
        let iteration = round_index(iteration)?;
        let name = c_string(name)?;
        let names = [name.as_ptr()];
        let handles = [matrix.handle];
        let mut out: *const c_char = std::ptr::null();
        // SAFETY: one live DMatrix and one name; the result is a NUL-terminated string owned
        // by the booster, copied before the next call.
        self.xgb.check(unsafe {
            (self.xgb.booster_eval_one_iter)(
                self.handle,
                iteration,
                handles.as_ptr(),
                names.as_ptr(),
                1,
                &mut out,
            )
        })?;
        if out.is_null() {
            return Err(external("XGBoosterEvalOneIter gave no result"));
        }
        // SAFETY: checked non-null above; valid until the next call on this booster.
        Ok(unsafe { CStr::from_ptr(out) }
            .to_string_lossy()
            .into_owned())
    }

    /// Releases the training caches, as `xgb.train` does at its end (`Booster.reset`).
    pub(super) fn reset(&self) -> Result<()> {
        // SAFETY: a live booster.
        self.xgb
            .check(unsafe { (self.xgb.booster_reset)(self.handle) })
    }

    /// `Booster.predict(matrix, iteration_range=(0, iteration_end))`: value predictions
    /// (type 0) of the trees of rounds `[0, iteration_end)`, all of them for 0.
    pub(super) fn predict(
        &self,
        matrix: &DMatrix,
        rows: usize,
        iteration_end: usize,
    ) -> Result<Outputs> {
        let config = c_string(&format!(
            r#"{{"type": 0, "training": false, "iteration_begin": 0, "iteration_end": {iteration_end}, "strict_shape": false}}"#
        ))?;
        let mut shape: *const BstUlong = std::ptr::null();
        let mut dims: BstUlong = 0;
        let mut values: *const f32 = std::ptr::null();
        // SAFETY: live handles and a NUL-terminated configuration; the outputs point into the
        // booster's thread-local buffer, copied below before any other call.
        self.xgb.check(unsafe {
            (self.xgb.booster_predict_from_dmatrix)(
                self.handle,
                matrix.handle,
                config.as_ptr(),
                &mut shape,
                &mut dims,
                &mut values,
            )
        })?;
        // SAFETY: `shape` holds `dims` extents, as XGBoosterPredictFromDMatrix documents.
        let extents = unsafe { read_slice(shape, dims)? };
        let total: u64 = extents.iter().product();
        let width = (total as usize).checked_div(rows).unwrap_or(0);
        if extents.first().copied() != Some(rows as u64) || width * rows != total as usize {
            return Err(external(format!(
                "a prediction of shape {extents:?} for {rows} rows"
            )));
        }
        // SAFETY: `values` holds the product of the extents.
        let values = unsafe { read_slice(values, total)? };
        Ok(Outputs {
            values: values.to_vec(),
            width,
        })
    }

    /// `Booster.get_score(importance_type=kind)`: each scored feature's name with its
    /// score(s), features never split on left out.
    pub(super) fn feature_scores(&self, kind: &str) -> Result<Vec<(String, Vec<f32>)>> {
        let config = c_string(&format!(
            r#"{{"importance_type": "{kind}", "feature_map": ""}}"#
        ))?;
        let mut n_features: BstUlong = 0;
        let mut names: *const *const c_char = std::ptr::null();
        let mut dims: BstUlong = 0;
        let mut shape: *const BstUlong = std::ptr::null();
        let mut scores: *const f32 = std::ptr::null();
        // SAFETY: a live booster and a NUL-terminated configuration; the outputs point into
        // the booster's buffers, copied below before any other call.
        self.xgb.check(unsafe {
            (self.xgb.booster_feature_score)(
                self.handle,
                config.as_ptr(),
                &mut n_features,
                &mut names,
                &mut dims,
                &mut shape,
                &mut scores,
            )
        })?;
        // SAFETY: as documented in c_api.h: `n_features` names, `dims` extents, and the
        // product of the extents scores.
        unsafe {
            let names = read_slice(names, n_features)?;
            let extents = read_slice(shape, dims)?;
            let total: u64 = extents.iter().product();
            let scores = read_slice(scores, total)?;
            let per_feature = total.checked_div(n_features).unwrap_or(0) as usize;
            if per_feature as u64 * n_features != total {
                return Err(external(format!(
                    "{n_features} feature names for scores of shape {extents:?}"
                )));
            }
            names
                .iter()
                .enumerate()
                .map(|(k, &name)| {
                    if name.is_null() {
                        return Err(external("a feature score without a name"));
                    }
                    let name = CStr::from_ptr(name).to_string_lossy().into_owned();
                    let row = scores[k * per_feature..(k + 1) * per_feature].to_vec();
                    Ok((name, row))
                })
                .collect()
        }
    }
}

impl Drop for Booster {
    fn drop(&mut self) {
        // SAFETY: the handle came from XGBoosterCreate and is freed once.
        let code = unsafe { (self.xgb.booster_free)(self.handle) };
        if code != 0 {
            booster::library_log(DECODER, "XGBoosterFree failed");
        }
    }
}

/// A round's index as the C API's `int`.
fn round_index(iteration: usize) -> Result<c_int> {
    c_int::try_from(iteration)
        .map_err(|_| external(format!("round {iteration} is beyond XGBoost's int range")))
}

/// `len` values at `data` (empty for a null pointer with `len` 0).
///
/// # Safety
///
/// `data` must point to `len` initialised values that stay valid for the returned lifetime.
unsafe fn read_slice<'a, T>(data: *const T, len: BstUlong) -> Result<&'a [T]> {
    let len = usize::try_from(len).map_err(|_| external("an output too long to address"))?;
    if len == 0 {
        return Ok(&[]);
    }
    if data.is_null() {
        return Err(external("a null output from the library"));
    }
    // SAFETY: the caller's contract.
    Ok(unsafe { std::slice::from_raw_parts(data, len) })
}
