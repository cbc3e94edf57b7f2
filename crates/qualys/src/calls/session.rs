//! `check_login`: a session login and logout, for `check-config --online`.
//!
//! The session API is exempt from rate and concurrency limits, so checking credentials
//! this way costs none of the subscription's hourly budget (unlike "one cheap call").

use crate::api::Call;
use crate::classify::Ctx;
use crate::client::{read_and_decode, Client, Reply};
use crate::error::ApiError;

use super::success;

impl Client {
    /// Logs in with the configured credentials (`/api/2.0/fo/session/`, action=login) and
    /// logs out again with the session cookie. Returns the login TEXT (`Logged in`).
    /// Bad credentials come back as [`crate::ErrorKind::BadCredentials`].
    pub async fn check_login(&self) -> Result<Reply<String>, ApiError> {
        let params = [
            ("username", self.cfg.username.clone()),
            ("password", self.password().expose().to_string()),
        ];
        let path = self.path(Call::SessionLogin);
        let login_key = self.api_for(Call::SessionLogin);
        let response = self.send(Call::SessionLogin, path, &params, true).await?;
        let cookie = response
            .headers()
            .get_all(reqwest::header::SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .filter_map(|v| v.split(';').next())
            .find(|v| v.trim_start().starts_with("QualysSession="))
            .map(|v| v.trim().to_string());
        let ctx = Ctx {
            api: &login_key,
            safe: true,
        };
        let reply = read_and_decode(ctx, response, |doc| Ok(success(doc)?.text)).await?;
        self.logout(cookie).await;
        Ok(reply)
    }

    /// Best-effort logout; a failure is logged, not returned (the session expires anyway).
    async fn logout(&self, cookie: Option<String>) {
        let Some(cookie) = cookie else {
            tracing::warn!("session login set no QualysSession cookie; skipping logout");
            return;
        };
        let mut url = self.base.clone();
        url.set_path(self.path(Call::SessionLogout));
        let result = self
            .http
            .post(url)
            .timeout(self.cfg.request_timeout)
            .basic_auth(&self.cfg.username, Some(self.password().expose()))
            .header(reqwest::header::COOKIE, cookie)
            .form(&[("action", "logout")])
            .send()
            .await;
        match result {
            Ok(r) if r.status().is_success() => {}
            Ok(r) => tracing::warn!(status = r.status().as_u16(), "session logout refused"),
            Err(e) => tracing::warn!(error = %e, "session logout failed"),
        }
    }
}
