//! A real headless Chromium for the console's browser tests: Debian's `chromium` driven through its
//! `chromedriver` (both installed by `scripts/setup.sh`), started on a free port, with screenshots written to a
//! folder the run names.

use crate::process::free_port;
use anyhow::Context as _;
use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;
use std::path::PathBuf;
use std::process::Stdio;
use std::time::{Duration, Instant};
use tokio::process::{Child, Command};

/// Where screenshots go: `FERRY_SCREENSHOTS`, else `target/console-screenshots` of this workspace.
pub fn screenshot_dir() -> PathBuf {
    std::env::var_os("FERRY_SCREENSHOTS").map_or_else(
        || PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/console-screenshots"),
        PathBuf::from,
    )
}

/// A chromedriver process and one browser session on it; [`Chromium::quit`] ends both (dropping kills the driver).
pub struct Chromium {
    /// The WebDriver session.
    pub client: Client,
    driver: Child,
}

impl Chromium {
    /// Starts chromedriver on a free port and a headless Chromium session (no sandbox: tests run as root in CI).
    ///
    /// # Errors
    /// chromedriver or chromium is missing (run `scripts/setup.sh`), or the session could not start.
    pub async fn start() -> anyhow::Result<Self> {
        let port = free_port()?;
        let driver = Command::new("chromedriver")
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .context("start chromedriver (apt-get install chromium chromium-driver; scripts/setup.sh does)")?;
        let url = format!("http://127.0.0.1:{port}");
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if reqwest::get(format!("{url}/status"))
                .await
                .is_ok_and(|r| r.status().is_success())
            {
                break;
            }
            anyhow::ensure!(
                Instant::now() < deadline,
                "chromedriver did not answer at {url}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let mut caps = serde_json::Map::new();
        caps.insert(
            "goog:chromeOptions".to_owned(),
            serde_json::json!({
                "binary": "/usr/bin/chromium",
                "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                         "--window-size=1400,1000", "--blink-settings=scriptEnabled=false"]
            }),
        );
        let client = ClientBuilder::new(HttpConnector::new())
            .capabilities(caps)
            .connect(&url)
            .await
            .context("start a headless chromium session")?;
        Ok(Self { client, driver })
    }

    /// Opens `url` and returns the page's visible text.
    ///
    /// # Errors
    /// The browser failed.
    pub async fn open(&self, url: &str) -> anyhow::Result<String> {
        self.client.goto(url).await?;
        self.text().await
    }

    /// The current page's visible text.
    ///
    /// # Errors
    /// The browser failed.
    pub async fn text(&self) -> anyhow::Result<String> {
        Ok(self.client.find(Locator::Css("body")).await?.text().await?)
    }

    /// The visible text of the element `css` on the current page.
    ///
    /// # Errors
    /// No such element, or the browser failed.
    pub async fn text_of(&self, css: &str) -> anyhow::Result<String> {
        Ok(self.client.find(Locator::Css(css)).await?.text().await?)
    }

    /// Types `value` into the field named `name`.
    ///
    /// # Errors
    /// No such field, or the browser failed.
    pub async fn fill(&self, name: &str, value: &str) -> anyhow::Result<()> {
        let field = self
            .client
            .find(Locator::Css(&format!("[name=\"{name}\"]")))
            .await?;
        field.clear().await?;
        field.send_keys(value).await?;
        Ok(())
    }

    /// Clicks the element `css` and returns the text of the page it leads to.
    ///
    /// # Errors
    /// No such element, or the browser failed.
    pub async fn click(&self, css: &str) -> anyhow::Result<String> {
        let before = self.client.find(Locator::Css("html")).await?;
        self.client.find(Locator::Css(css)).await?.click().await?;
        // Every console click submits a form or follows a link: wait until the old page is gone.
        let deadline = Instant::now() + Duration::from_secs(15);
        while before.tag_name().await.is_ok() {
            anyhow::ensure!(
                Instant::now() < deadline,
                "clicking {css} led to no new page"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        self.text().await
    }

    /// Saves a PNG of the current page as `<screenshot_dir>/<name>.png`.
    ///
    /// # Errors
    /// The browser or the file system failed.
    pub async fn screenshot(&self, name: &str) -> anyhow::Result<PathBuf> {
        let dir = screenshot_dir();
        std::fs::create_dir_all(&dir).with_context(|| format!("create {}", dir.display()))?;
        let path = dir.join(format!("{name}.png"));
        std::fs::write(&path, self.client.screenshot().await?)
            .with_context(|| format!("write {}", path.display()))?;
        Ok(path)
    }

    /// The value of the cookie `name` the browser holds for the current page's site (HttpOnly ones too).
    ///
    /// # Errors
    /// The browser failed.
    pub async fn cookie(&self, name: &str) -> anyhow::Result<Option<String>> {
        Ok(self
            .client
            .get_all_cookies()
            .await?
            .into_iter()
            .find(|c| c.name() == name)
            .map(|c| c.value().to_owned()))
    }

    /// Ends the browser session and chromedriver.
    pub async fn quit(mut self) {
        let _ = self.client.close().await;
        let _ = self.driver.kill().await;
    }
}
