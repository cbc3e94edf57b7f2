//! The shared Qualys response samples (copied to `tests/data/qualys-samples/`, sources in
//! its README), embedded for the unit tests.

/// `asset_ip_add_success__demisto_content.xml`
pub(crate) const ASSET_IP_ADD_SUCCESS: &str =
    include_str!("../../../../tests/data/qualys-samples/asset_ip_add_success__demisto_content.xml");
/// `asset_ip_error_1905_ips_do_not_exist__demisto_content.xml`
pub(crate) const ASSET_IP_1905: &str =
    include_str!("../../../../tests/data/qualys-samples/asset_ip_error_1905_ips_do_not_exist__demisto_content.xml");
/// `error_1903_missing_action_http400__mikemackintosh_ruby-qualys.xml`
pub(crate) const ERROR_1903: &str =
    include_str!("../../../../tests/data/qualys-samples/error_1903_missing_action_http400__mikemackintosh_ruby-qualys.xml");
/// `error_1905_invalid_value_http400__JupiterOne-Archives_graph-qualys.xml`
pub(crate) const ERROR_1905: &str =
    include_str!("../../../../tests/data/qualys-samples/error_1905_invalid_value_http400__JupiterOne-Archives_graph-qualys.xml");
/// `error_1960_concurrency_limit_409_body__JupiterOne-Archives_graph-qualys.xml`
pub(crate) const ERROR_1960: &str =
    include_str!("../../../../tests/data/qualys-samples/error_1960_concurrency_limit_409_body__JupiterOne-Archives_graph-qualys.xml");
/// `error_1965_rate_limit_409_body__JupiterOne-Archives_graph-qualys.xml`
pub(crate) const ERROR_1965: &str =
    include_str!("../../../../tests/data/qualys-samples/error_1965_rate_limit_409_body__JupiterOne-Archives_graph-qualys.xml");
/// `error_2000_bad_login_http401__mikemackintosh_ruby-qualys.xml`
pub(crate) const ERROR_2000: &str =
    include_str!("../../../../tests/data/qualys-samples/error_2000_bad_login_http401__mikemackintosh_ruby-qualys.xml");
/// `error_2001_account_expired_http200__JupiterOne-Archives_graph-qualys.xml`
pub(crate) const ERROR_2001: &str =
    include_str!("../../../../tests/data/qualys-samples/error_2001_account_expired_http200__JupiterOne-Archives_graph-qualys.xml");
/// `host_list_truncation_warning_1980__Amitgb14_pyqualys.xml`
pub(crate) const HOST_LIST_1980: &str =
    include_str!("../../../../tests/data/qualys-samples/host_list_truncation_warning_1980__Amitgb14_pyqualys.xml");
/// `redirect_301_missing_trailing_slash__mikemackintosh_ruby-qualys.html`
pub(crate) const REDIRECT_301: &str =
    include_str!("../../../../tests/data/qualys-samples/redirect_301_missing_trailing_slash__mikemackintosh_ruby-qualys.html");
/// `report_fetch_not_ready_7001__mikemackintosh_ruby-qualys.xml`
pub(crate) const REPORT_NOT_READY_7001: &str =
    include_str!("../../../../tests/data/qualys-samples/report_fetch_not_ready_7001__mikemackintosh_ruby-qualys.xml");
/// `report_fetch_scan_report_xml__mikemackintosh_ruby-qualys.xml`
pub(crate) const REPORT_XML: &str =
    include_str!("../../../../tests/data/qualys-samples/report_fetch_scan_report_xml__mikemackintosh_ruby-qualys.xml");
/// `report_launch__mikemackintosh_ruby-qualys.xml`
pub(crate) const REPORT_LAUNCH: &str = include_str!(
    "../../../../tests/data/qualys-samples/report_launch__mikemackintosh_ruby-qualys.xml"
);
/// `report_list_finished__elastic_mito.xml`
pub(crate) const REPORT_LIST: &str =
    include_str!("../../../../tests/data/qualys-samples/report_list_finished__elastic_mito.xml");
/// `report_template_list_v1__mikemackintosh_ruby-qualys.xml`
pub(crate) const TEMPLATE_LIST: &str = include_str!(
    "../../../../tests/data/qualys-samples/report_template_list_v1__mikemackintosh_ruby-qualys.xml"
);
/// `scan_launch__Amitgb14_pyqualys.xml`
pub(crate) const SCAN_LAUNCH: &str =
    include_str!("../../../../tests/data/qualys-samples/scan_launch__Amitgb14_pyqualys.xml");
/// `scan_list_empty__mikemackintosh_ruby-qualys.xml`
pub(crate) const SCAN_LIST_EMPTY: &str = include_str!(
    "../../../../tests/data/qualys-samples/scan_list_empty__mikemackintosh_ruby-qualys.xml"
);
/// `scan_list_error_and_finished__mikemackintosh_ruby-qualys.xml`
pub(crate) const SCAN_LIST_MIXED: &str =
    include_str!("../../../../tests/data/qualys-samples/scan_list_error_and_finished__mikemackintosh_ruby-qualys.xml");
/// `scan_list_finished_no_host_v3__Amitgb14_pyqualys.xml`
pub(crate) const SCAN_LIST_V3_NO_HOST: &str = include_str!(
    "../../../../tests/data/qualys-samples/scan_list_finished_no_host_v3__Amitgb14_pyqualys.xml"
);
/// `session_login__mikemackintosh_ruby-qualys.xml`
pub(crate) const SESSION_LOGIN: &str = include_str!(
    "../../../../tests/data/qualys-samples/session_login__mikemackintosh_ruby-qualys.xml"
);
/// `session_logout__mikemackintosh_ruby-qualys.xml`
pub(crate) const SESSION_LOGOUT: &str = include_str!(
    "../../../../tests/data/qualys-samples/session_logout__mikemackintosh_ruby-qualys.xml"
);
/// `v1_asset_ip_add_error_5000_generic_return__athiasjerome_XORCISM.xml`
pub(crate) const V1_ERROR_5000: &str =
    include_str!("../../../../tests/data/qualys-samples/v1_asset_ip_add_error_5000_generic_return__athiasjerome_XORCISM.xml");

/// Every sample, for the property tests.
pub(crate) const ALL: &[&str] = &[
    ASSET_IP_ADD_SUCCESS,
    ASSET_IP_1905,
    ERROR_1903,
    ERROR_1905,
    ERROR_1960,
    ERROR_1965,
    ERROR_2000,
    ERROR_2001,
    HOST_LIST_1980,
    REDIRECT_301,
    REPORT_NOT_READY_7001,
    REPORT_XML,
    REPORT_LAUNCH,
    REPORT_LIST,
    TEMPLATE_LIST,
    SCAN_LAUNCH,
    SCAN_LIST_EMPTY,
    SCAN_LIST_MIXED,
    SCAN_LIST_V3_NO_HOST,
    SESSION_LOGIN,
    SESSION_LOGOUT,
    V1_ERROR_5000,
];
