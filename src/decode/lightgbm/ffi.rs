//! A thin binding to the part of LightGBM's C API (`c_api.h`) that the decoder uses, loaded at
//! run time from the official wheel's `lib_lightgbm.so`.
//!
//! The library is opened once per process. Its datasets and boosters are owned handles freed on
//! drop. Every call that may fail turns a non-zero return into the library's own error text
//! (`LGBM_GetLastError`). LightGBM keeps its log callback and log level per thread, so each
//! entry point registers quakelab's callback on the calling thread first: the library's lines
//! then go to [`booster::library_log`] instead of the terminal, and a caller may capture them.

use std::cell::RefCell;
use std::ffi::{CStr, CString, c_char, c_int, c_void};
use std::sync::OnceLock;

use libloading::Library;

use crate::decode::booster;
use crate::{Error, Result};

/// Where the library lies inside the venv's site-packages.
pub const LIBRARY: &str = "lightgbm/lib/lib_lightgbm.so";

const DTYPE_FLOAT32: c_int = 0;
const DTYPE_FLOAT64: c_int = 1;
const PREDICT_NORMAL: c_int = 0;
const FEATURE_IMPORTANCE_SPLIT: c_int = 0;
const FEATURE_IMPORTANCE_GAIN: c_int = 1;

type Handle = *mut c_void;
type LogCallback = extern "C" fn(*const c_char);

/// The entry points, resolved once; `_library` keeps them loaded for the process's lifetime.
struct Api {
    get_last_error: unsafe extern "C" fn() -> *const c_char,
    register_log_callback: unsafe extern "C" fn(Option<LogCallback>) -> c_int,
    update_param_checking: unsafe extern "C" fn(*const c_char, *const c_char) -> c_int,
    dataset_create_from_mat: unsafe extern "C" fn(
        *const c_void,
        c_int,
        i32,
        i32,
        c_int,
        *const c_char,
        Handle,
        *mut Handle,
    ) -> c_int,
    dataset_set_field:
        unsafe extern "C" fn(Handle, *const c_char, *const c_void, c_int, c_int) -> c_int,
    dataset_free: unsafe extern "C" fn(Handle) -> c_int,
    booster_create: unsafe extern "C" fn(Handle, *const c_char, *mut Handle) -> c_int,
    booster_add_valid_data: unsafe extern "C" fn(Handle, Handle) -> c_int,
    booster_update_one_iter: unsafe extern "C" fn(Handle, *mut c_int) -> c_int,
    booster_get_eval_counts: unsafe extern "C" fn(Handle, *mut c_int) -> c_int,
    booster_get_eval_names: unsafe extern "C" fn(
        Handle,
        c_int,
        *mut c_int,
        usize,
        *mut usize,
        *mut *mut c_char,
    ) -> c_int,
    booster_get_eval: unsafe extern "C" fn(Handle, c_int, *mut c_int, *mut f64) -> c_int,
    booster_save_model_to_string:
        unsafe extern "C" fn(Handle, c_int, c_int, c_int, i64, *mut i64, *mut c_char) -> c_int,
    booster_load_model_from_string:
        unsafe extern "C" fn(*const c_char, *mut c_int, *mut Handle) -> c_int,
    booster_calc_num_predict:
        unsafe extern "C" fn(Handle, c_int, c_int, c_int, c_int, *mut i64) -> c_int,
    booster_predict_for_mat: unsafe extern "C" fn(
        Handle,
        *const c_void,
        c_int,
        i32,
        i32,
        c_int,
        c_int,
        c_int,
        c_int,
        *const c_char,
        *mut i64,
        *mut f64,
    ) -> c_int,
    booster_feature_importance: unsafe extern "C" fn(Handle, c_int, c_int, *mut f64) -> c_int,
    booster_free: unsafe extern "C" fn(Handle) -> c_int,
    _library: Library,
}

static API: OnceLock<Api> = OnceLock::new();

/// The loaded library: opened on first use, or the actionable error of a missing one.
fn api() -> Result<&'static Api> {
    if let Some(api) = API.get() {
        return Ok(api);
    }
    let path = booster::library_file("lightgbm", LIBRARY)?;
    let load_error = |e: libloading::Error| Error::External {
        service: "lightgbm".into(),
        message: format!("cannot load {}: {e}", path.display()),
    };
    // SAFETY: lib_lightgbm.so is the official wheel's library; loading it runs only its
    // static initialisers, which have no preconditions.
    let library = unsafe { Library::new(&path) }.map_err(load_error)?;
    macro_rules! symbol {
        ($name:literal) => {
            // SAFETY: the function types above are transcribed from LightGBM's c_api.h, and
            // the pointers stay valid as long as `library`, kept alongside them in `Api`.
            *unsafe { library.get(concat!($name, "\0").as_bytes()) }.map_err(load_error)?
        };
    }
    let api = Api {
        get_last_error: symbol!("LGBM_GetLastError"),
        register_log_callback: symbol!("LGBM_RegisterLogCallback"),
        update_param_checking: symbol!("LGBM_DatasetUpdateParamChecking"),
        dataset_create_from_mat: symbol!("LGBM_DatasetCreateFromMat"),
        dataset_set_field: symbol!("LGBM_DatasetSetField"),
        dataset_free: symbol!("LGBM_DatasetFree"),
        booster_create: symbol!("LGBM_BoosterCreate"),
        booster_add_valid_data: symbol!("LGBM_BoosterAddValidData"),
        booster_update_one_iter: symbol!("LGBM_BoosterUpdateOneIter"),
        booster_get_eval_counts: symbol!("LGBM_BoosterGetEvalCounts"),
        booster_get_eval_names: symbol!("LGBM_BoosterGetEvalNames"),
        booster_get_eval: symbol!("LGBM_BoosterGetEval"),
        booster_save_model_to_string: symbol!("LGBM_BoosterSaveModelToString"),
        booster_load_model_from_string: symbol!("LGBM_BoosterLoadModelFromString"),
        booster_calc_num_predict: symbol!("LGBM_BoosterCalcNumPredict"),
        booster_predict_for_mat: symbol!("LGBM_BoosterPredictForMat"),
        booster_feature_importance: symbol!("LGBM_BoosterFeatureImportance"),
        booster_free: symbol!("LGBM_BoosterFree"),
        _library: library,
    };
    // Another thread may have won the race; its copy is as good as ours.
    Ok(API.get_or_init(|| api))
}

/// Opens the library (once per process), so that a missing one is reported before any work.
pub fn ensure_loaded() -> Result<()> {
    api().map(|_| ())
}

/// The library on the calling thread, with quakelab's log callback registered there.
fn session() -> Result<&'static Api> {
    let api = api()?;
    // SAFETY: `on_log` has the callback type of c_api.h and never unwinds.
    check(api, unsafe { (api.register_log_callback)(Some(on_log)) })?;
    Ok(api)
}

/// The library's error text after a call returned `code`, as an [`Error::External`].
fn check(api: &Api, code: c_int) -> Result<()> {
    if code == 0 {
        return Ok(());
    }
    // SAFETY: LGBM_GetLastError returns a pointer to the calling thread's last error message,
    // a NUL-terminated string that stays valid until the next failing call on this thread.
    let message = unsafe { CStr::from_ptr((api.get_last_error)()) }
        .to_string_lossy()
        .into_owned();
    Err(Error::External {
        service: "lightgbm".into(),
        message,
    })
}

fn c_string(text: &str) -> Result<CString> {
    CString::new(text).map_err(|_| Error::External {
        service: "lightgbm".into(),
        message: format!("a parameter string with a NUL byte: {text:?}"),
    })
}

fn c_int_of(n: usize, what: &str) -> Result<i32> {
    i32::try_from(n).map_err(|_| Error::External {
        service: "lightgbm".into(),
        message: format!("{n} {what} is more than LightGBM's C API takes (2^31 - 1)"),
    })
}

/// The log lines of the current thread: the line being assembled, and the lines captured
/// since [`capture_log`] began, if it did.
#[derive(Default)]
struct LogState {
    partial: String,
    captured: Option<Vec<String>>,
}

thread_local! {
    static LOG: RefCell<LogState> = RefCell::new(LogState::default());
}

/// LightGBM's log callback. The library writes a line in pieces (`[LightGBM] [Warning] `, the
/// message, `\n`); whole lines go to the tracing log, and to the capture when one is running.
extern "C" fn on_log(message: *const c_char) {
    if message.is_null() {
        return;
    }
    // SAFETY: LightGBM passes a NUL-terminated buffer that lives for the call.
    let piece = unsafe { CStr::from_ptr(message) }.to_string_lossy();
    let _ = LOG.try_with(|state| {
        let Ok(mut state) = state.try_borrow_mut() else {
            return;
        };
        state.partial.push_str(&piece);
        while let Some(end) = state.partial.find('\n') {
            let line: String = state.partial.drain(..=end).collect();
            let line = line.trim_end();
            booster::library_log("lightgbm", line);
            if let Some(captured) = state.captured.as_mut() {
                captured.push(line.to_string());
            }
        }
    });
}

/// Runs `work` and returns its result with the library log lines it wrote on this thread.
fn capture_log<R>(work: impl FnOnce() -> R) -> (R, Vec<String>) {
    LOG.with(|state| state.borrow_mut().captured = Some(Vec::new()));
    let result = work();
    let lines = LOG.with(|state| state.borrow_mut().captured.take().unwrap_or_default());
    (result, lines)
}

/// Parses `parameters` as LightGBM does before it builds a dataset (alias resolution, value
/// types, conflicts), at the library's default log level, and returns the log lines it wrote
/// (among them LightGBM's `Unknown parameter: KEY` warnings). A value the library refuses is
/// its own error.
pub fn check_parameters(parameters: &str) -> Result<Vec<String>> {
    let api = session()?;
    let checked = c_string(&format!("{parameters} verbosity=1"))?;
    let empty = c_string("")?;
    let (code, lines) = capture_log(|| {
        // SAFETY: both strings are NUL-terminated and outlive the call.
        unsafe { (api.update_param_checking)(checked.as_ptr(), empty.as_ptr()) }
    });
    check(api, code)?;
    Ok(lines)
}

/// A LightGBM dataset (`DatasetHandle`), freed on drop.
pub struct Dataset {
    api: &'static Api,
    handle: Handle,
}

impl Dataset {
    /// A dataset from `rows` (row-major `n × p` doubles, NaN for missing) and `labels` (stored
    /// as f32, as the Python package does), binned with `parameters`; a validation dataset
    /// takes the training dataset as `reference`, so it shares its bins.
    pub fn from_rows(
        rows: &[f64],
        n: usize,
        p: usize,
        labels: &[f32],
        parameters: &str,
        reference: Option<&Dataset>,
    ) -> Result<Dataset> {
        let api = session()?;
        let parameters = c_string(parameters)?;
        let (nrow, ncol) = (c_int_of(n, "rows")?, c_int_of(p, "columns")?);
        debug_assert_eq!(rows.len(), n * p);
        let mut handle: Handle = std::ptr::null_mut();
        // SAFETY: `rows` holds nrow × ncol doubles in row-major order; the strings and the
        // reference handle outlive the call, which copies the data into its own bins.
        check(api, unsafe {
            (api.dataset_create_from_mat)(
                rows.as_ptr().cast(),
                DTYPE_FLOAT64,
                nrow,
                ncol,
                1,
                parameters.as_ptr(),
                reference.map_or(std::ptr::null_mut(), |r| r.handle),
                &mut handle,
            )
        })?;
        let dataset = Dataset { api, handle };
        let field = c_string("label")?;
        // SAFETY: `labels` holds one f32 per row; the library copies them.
        check(api, unsafe {
            (api.dataset_set_field)(
                dataset.handle,
                field.as_ptr(),
                labels.as_ptr().cast(),
                c_int_of(labels.len(), "labels")?,
                DTYPE_FLOAT32,
            )
        })?;
        Ok(dataset)
    }
}

impl Drop for Dataset {
    fn drop(&mut self) {
        // SAFETY: the handle came from LGBM_DatasetCreateFromMat and is freed only here.
        unsafe { (self.api.dataset_free)(self.handle) };
    }
}

/// A LightGBM booster (`BoosterHandle`), freed on drop.
pub struct Booster {
    api: &'static Api,
    handle: Handle,
}

// SAFETY: the booster exclusively owns its handle, and LightGBM's Booster may be used from
// any thread, one call at a time; the decoder keeps it behind a Mutex for that.
unsafe impl Send for Booster {}

impl Booster {
    /// A booster that trains on `train` with `parameters`.
    pub fn new(train: &Dataset, parameters: &str) -> Result<Booster> {
        let api = session()?;
        let parameters = c_string(parameters)?;
        let mut handle: Handle = std::ptr::null_mut();
        // SAFETY: a live dataset handle and a NUL-terminated string; the booster keeps its
        // own reference to the dataset's bins until it is reloaded from its model string.
        check(api, unsafe {
            (api.booster_create)(train.handle, parameters.as_ptr(), &mut handle)
        })?;
        Ok(Booster { api, handle })
    }

    /// Adds validation rows, evaluated with the booster's metrics after each iteration.
    pub fn add_validation(&mut self, valid: &Dataset) -> Result<()> {
        let api = session()?;
        // SAFETY: two live handles; the dataset outlives the booster's training.
        check(api, unsafe {
            (api.booster_add_valid_data)(self.handle, valid.handle)
        })
    }

    /// One boosting iteration. Like `lgb.train`, the caller goes on after an iteration that
    /// found no split (the library's `is_finished`, which it also logs): the next one, with
    /// other bagging draws, may find one.
    pub fn update_one_iter(&mut self) -> Result<()> {
        let api = session()?;
        let mut finished: c_int = 0;
        // SAFETY: a live handle and a pointer to an int.
        check(api, unsafe {
            (api.booster_update_one_iter)(self.handle, &mut finished)
        })
    }

    /// The names of the booster's evaluation metrics (`l2`, `quantile`, …), in order.
    pub fn eval_names(&self) -> Result<Vec<String>> {
        let api = session()?;
        let mut count: c_int = 0;
        // SAFETY: a live handle and a pointer to an int.
        check(api, unsafe {
            (api.booster_get_eval_counts)(self.handle, &mut count)
        })?;
        let count = usize::try_from(count).unwrap_or(0);
        let mut length = 255usize;
        loop {
            let mut buffers = vec![vec![0 as c_char; length]; count];
            let mut pointers: Vec<*mut c_char> =
                buffers.iter_mut().map(|b| b.as_mut_ptr()).collect();
            let (mut written, mut needed) = (0 as c_int, 0usize);
            // SAFETY: `count` buffers of `length` bytes each, as the C API expects.
            check(api, unsafe {
                (api.booster_get_eval_names)(
                    self.handle,
                    count as c_int,
                    &mut written,
                    length,
                    &mut needed,
                    pointers.as_mut_ptr(),
                )
            })?;
            if needed > length {
                length = needed;
                continue;
            }
            return Ok(buffers
                .iter()
                .take(usize::try_from(written).unwrap_or(0))
                .map(|b| {
                    // SAFETY: the library wrote a NUL-terminated name into each buffer.
                    unsafe { CStr::from_ptr(b.as_ptr()) }
                        .to_string_lossy()
                        .into_owned()
                })
                .collect());
        }
    }

    /// The metrics' values on dataset `index` (0 the training rows, 1 the first validation set).
    pub fn eval(&self, index: usize, metrics: usize) -> Result<Vec<f64>> {
        let api = session()?;
        let mut values = vec![0.0; metrics];
        let mut written: c_int = 0;
        // SAFETY: `values` has room for every metric of the booster.
        check(api, unsafe {
            (api.booster_get_eval)(
                self.handle,
                c_int_of(index, "datasets")?,
                &mut written,
                values.as_mut_ptr(),
            )
        })?;
        values.truncate(usize::try_from(written).unwrap_or(0));
        Ok(values)
    }

    /// The booster as LightGBM's model text (its first `iterations`, all when 0), then read
    /// back from that text, as `lgb.train` returns it; this also frees the training data.
    pub fn reloaded(self, iterations: i32) -> Result<Booster> {
        let api = session()?;
        let mut length: i64 = 1 << 20;
        let text = loop {
            let mut buffer = vec![0 as c_char; usize::try_from(length).unwrap_or(0)];
            let mut needed: i64 = 0;
            // SAFETY: `buffer` has `length` bytes, as announced to the library.
            check(api, unsafe {
                (api.booster_save_model_to_string)(
                    self.handle,
                    0,
                    iterations,
                    FEATURE_IMPORTANCE_SPLIT,
                    length,
                    &mut needed,
                    buffer.as_mut_ptr(),
                )
            })?;
            if needed > length {
                length = needed;
                continue;
            }
            break buffer;
        };
        let mut handle: Handle = std::ptr::null_mut();
        let mut loaded_iterations: c_int = 0;
        // SAFETY: `text` is the NUL-terminated model text the library just wrote.
        check(api, unsafe {
            (api.booster_load_model_from_string)(text.as_ptr(), &mut loaded_iterations, &mut handle)
        })?;
        Ok(Booster { api, handle })
    }

    /// The predictions (normal type, as `Booster.predict`) of the first `iterations` (all when
    /// 0) for `rows` (row-major `n × p` doubles), computed on `threads` threads.
    pub fn predict(
        &self,
        rows: &[f64],
        n: usize,
        p: usize,
        iterations: i32,
        threads: usize,
    ) -> Result<Vec<f64>> {
        let api = session()?;
        let nrow = c_int_of(n, "rows")?;
        let mut expected: i64 = 0;
        // SAFETY: a live handle and a pointer to an i64.
        check(api, unsafe {
            (api.booster_calc_num_predict)(
                self.handle,
                nrow,
                PREDICT_NORMAL,
                0,
                iterations,
                &mut expected,
            )
        })?;
        if expected != i64::from(nrow) {
            return Err(Error::External {
                service: "lightgbm".into(),
                message: format!(
                    "the model gives {expected} outputs for {n} rows; quakelab's decoders \
                     predict one value per row (a regression or quantile objective)"
                ),
            });
        }
        let mut out = vec![0.0; n];
        let mut written: i64 = 0;
        let parameters = c_string(&format!("num_threads={threads}"))?;
        // SAFETY: `rows` holds nrow × p doubles in row-major order and `out` has room for the
        // nrow outputs counted above.
        check(api, unsafe {
            (api.booster_predict_for_mat)(
                self.handle,
                rows.as_ptr().cast(),
                DTYPE_FLOAT64,
                nrow,
                c_int_of(p, "columns")?,
                1,
                PREDICT_NORMAL,
                0,
                iterations,
                parameters.as_ptr(),
                &mut written,
                out.as_mut_ptr(),
            )
        })?;
        out.truncate(usize::try_from(written).unwrap_or(0));
        Ok(out)
    }

    /// Total gain per feature column (`importance_type = "gain"`) of the first `iterations`
    /// (all when 0), for a model fitted on `columns` columns.
    pub fn gain_importance(&self, iterations: i32, columns: usize) -> Result<Vec<f64>> {
        let api = session()?;
        let mut out = vec![0.0; columns];
        // SAFETY: the model was fitted on `columns` columns, one importance each.
        check(api, unsafe {
            (api.booster_feature_importance)(
                self.handle,
                iterations,
                FEATURE_IMPORTANCE_GAIN,
                out.as_mut_ptr(),
            )
        })?;
        Ok(out)
    }
}

impl Drop for Booster {
    fn drop(&mut self) {
        // SAFETY: the handle came from LGBM_BoosterCreate or LGBM_BoosterLoadModelFromString
        // and is freed only here.
        unsafe { (self.api.booster_free)(self.handle) };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_librarys_log_pieces_are_joined_into_lines() {
        let pieces = [
            c"[LightGBM] [Warning] ",
            c"Unknown parameter: foo",
            c"\n",
            c"[LightGBM] [Info] ",
            c"two\nlines",
            c"\n",
        ];
        let ((), lines) = capture_log(|| {
            for piece in pieces {
                on_log(piece.as_ptr());
            }
        });
        assert_eq!(
            lines,
            [
                "[LightGBM] [Warning] Unknown parameter: foo",
                "[LightGBM] [Info] two",
                "lines"
            ]
        );
        let ((), after) = capture_log(|| on_log(std::ptr::null()));
        assert!(after.is_empty());
    }
}
