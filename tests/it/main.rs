//! quakelab's integration tests, built as one binary so that linking stays fast.

mod catalog;
mod classification;
mod classify;
mod cli;
mod dataset;
mod decluster;
mod decode;
#[cfg(feature = "catboost")]
mod decode_catboost;
#[cfg(feature = "lightgbm")]
mod decode_lightgbm;
#[cfg(feature = "xgboost")]
mod decode_xgboost;
mod encode;
mod encode_vit;
mod experiment;
mod geomag_io;
mod geomag_maps;
mod geomag_synth;
mod gnss_gridding;
mod gnss_io;
mod gnss_synth;
mod labels;
mod models;
mod pfn_decoder;
mod pfn_eval;
mod pfn_pretrain;
mod pfn_prior;
mod properties;
mod real_data;
mod run_vgg12;
mod run_vit;
mod seismicity;
mod seismostats_b;
mod seismostats_mc;
mod slurm;
mod stationarity;
mod support;
mod tabpfn;
mod tabpfn_model;
mod track;
mod uncertainty;
