//! Support code shared by the integration tests (the test binary lives in `integration/`).
