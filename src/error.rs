//! The crate's error type.
//!
//! One variant family per boundary: files ([`Error::Io`]), the text inside them ([`Error::Parse`]),
//! binary files ([`Error::Format`]), settings ([`Error::Config`]), numerical preconditions ([`Error::Numerical`]), servers
//! ([`Error::External`]) and stored files that fail their checksum ([`Error::Integrity`]). Input
//! errors always carry the file, line and field, so a user can go straight to the offending value.

use std::path::{Path, PathBuf};

/// Everything that can go wrong in the library.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A file could not be opened, read or written.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file concerned.
        path: PathBuf,
        /// What the operating system said.
        #[source]
        source: std::io::Error,
    },
    /// A value in an input file is malformed.
    #[error("{}:{line}: field `{field}`: {message}", path.display())]
    Parse {
        /// The input file.
        path: PathBuf,
        /// 1-based line number in the file (the header is line 1).
        line: u64,
        /// The column or field name.
        field: String,
        /// What is wrong with the value.
        message: String,
    },
    /// A setting is missing, unknown or out of range.
    #[error("setting `{key}`: {message}")]
    Config {
        /// The offending key, in dotted form (e.g. `seismicity.min_events`).
        key: String,
        /// What is wrong with it.
        message: String,
    },
    /// A binary input file (a `.npy` array, a model checkpoint) is malformed, or does not hold
    /// what was expected of it.
    #[error("{}: {item}: {message}", path.display())]
    Format {
        /// The file concerned.
        path: PathBuf,
        /// The part of it at fault (`header`, `tensor `name``).
        item: String,
        /// What is wrong, with what was expected and found.
        message: String,
    },
    /// A figure could not be drawn or encoded.
    #[error("{}: drawing failed: {message}", path.display())]
    Render {
        /// The image file being written.
        path: PathBuf,
        /// What the plotting backend said.
        message: String,
    },
    /// A computation's precondition does not hold for the data given
    /// (e.g. a series too short for the requested lag order).
    #[error("{0}")]
    Numerical(String),
    /// An external service (a server such as MLflow, or a foreign library) failed or refused.
    #[error("{service}: {message}")]
    External {
        /// The service concerned (e.g. `mlflow`).
        service: String,
        /// What went wrong, including what the service answered.
        message: String,
    },
    /// A stored file no longer matches the SHA-256 recorded when it was written (truncated,
    /// edited or replaced since).
    #[error("{}: {message}", path.display())]
    Integrity {
        /// The file that fails to verify.
        path: PathBuf,
        /// What was expected and found.
        message: String,
    },
}

/// The crate's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// Wraps an I/O error with the path it concerns.
    pub fn io(path: impl AsRef<Path>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.as_ref().to_path_buf(),
            source,
        }
    }

    /// A malformed value at `path:line`, in field `field`.
    pub fn parse(
        path: impl AsRef<Path>,
        line: u64,
        field: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        Error::Parse {
            path: path.as_ref().to_path_buf(),
            line,
            field: field.into(),
            message: message.into(),
        }
    }

    /// A malformed binary file, naming the part at fault.
    pub fn format(
        path: impl AsRef<Path>,
        item: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        Error::Format {
            path: path.as_ref().to_path_buf(),
            item: item.into(),
            message: message.into(),
        }
    }

    /// A bad setting, naming its key.
    pub fn config(key: impl Into<String>, message: impl Into<String>) -> Self {
        Error::Config {
            key: key.into(),
            message: message.into(),
        }
    }
}

/// Returns early with an [`Error::Config`] naming `key` unless `cond` holds.
///
/// ```
/// fn check(window_days: usize) -> quakelab::Result<()> {
///     quakelab::ensure_config!(
///         window_days > 0,
///         "seismicity.window_days",
///         "must be positive, got {window_days}"
///     );
///     Ok(())
/// }
/// assert!(check(1).is_ok());
/// assert!(check(0).unwrap_err().to_string().contains("seismicity.window_days"));
/// ```
#[macro_export]
macro_rules! ensure_config {
    ($cond:expr, $key:expr, $($fmt:tt)+) => {
        if !$cond {
            return Err($crate::Error::config($key, format!($($fmt)+)));
        }
    };
}
