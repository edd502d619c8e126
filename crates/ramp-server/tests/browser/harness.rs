//! The browser side of the UI tests: a headless Chromium session, driven through chromedriver
//! by fantoccini, with explicit waits and small helpers, so that the scenarios read as a
//! user's actions. Every helper returns an `Outcome` (an error message naming what was
//! expected and what was seen) instead of panicking, so that one failing scenario does not
//! hide the others and the WebDriver session is always closed.

use std::fmt::Display;
use std::future::Future;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use fantoccini::elements::Element;
use fantoccini::error::CmdError;
use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;
use serde_json::{json, Value};

use super::chromedriver::Driver;
use crate::common::{self, TestServer};

/// Debian's packages put both here (scripts/test installs them).
pub const CHROMIUM: &str = "/usr/bin/chromium";
pub const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
/// How long an explicit wait lasts: generous, because the test machine has two busy cores.
pub const WAIT: Duration = Duration::from_secs(10);
/// The desktop window of every screen, and the phone width of one screenshot.
pub const DESKTOP: (u32, u32) = (1280, 900);
pub const PHONE: (u32, u32) = (375, 812);

/// A step's result: the error says what was expected and what the page or API showed.
pub type Outcome<T = ()> = Result<T, String>;

/// Adds what was being done to an error from WebDriver, reqwest or a missing value.
pub trait Context<T> {
    fn context(self, what: impl Display) -> Outcome<T>;
}

impl<T, E: Display> Context<T> for Result<T, E> {
    fn context(self, what: impl Display) -> Outcome<T> {
        self.map_err(|error| format!("{what}: {error}"))
    }
}

impl<T> Context<T> for Option<T> {
    fn context(self, what: impl Display) -> Outcome<T> {
        self.ok_or_else(|| format!("{what}: missing"))
    }
}

/// A WebDriver error in one line, e.g. `WebDriver stale element reference: ...`: chromedriver
/// adds its session details and a stack trace on further lines.
pub trait Short<T> {
    fn short(self) -> Outcome<T>;
}

impl<T> Short<T> for Result<T, CmdError> {
    fn short(self) -> Outcome<T> {
        self.map_err(|error| {
            let text = match &error {
                CmdError::Standard(error) => {
                    format!("WebDriver {}: {}", error.error, error.message)
                }
                other => other.to_string(),
            };
            text.lines().next().unwrap_or_default().to_owned()
        })
    }
}

/// Fails the step with a formatted message unless the condition holds.
macro_rules! ensure {
    ($condition:expr, $($message:tt)+) => {
        if !$condition {
            return Err(format!($($message)+));
        }
    };
}
pub(crate) use ensure;

/// Retries `probe` until it answers `Ok` or `WAIT` passes; the timeout error carries the
/// probe's last complaint, which is what the page showed instead.
pub async fn poll<T, F, Fut>(what: &str, mut probe: F) -> Outcome<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Outcome<T>>,
{
    let deadline = Instant::now() + WAIT;
    loop {
        match probe().await {
            Ok(value) => return Ok(value),
            Err(last) if Instant::now() >= deadline => {
                return Err(format!("waited {WAIT:?} for {what}; last saw: {last}"));
            }
            Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
        }
    }
}

/// One headless Chromium session on a Ramp server's UI.
pub struct Browser {
    pub client: Client,
    /// The server's address, without a trailing slash.
    pub base: String,
    /// Where screenshots go, when RAMP_SCREENSHOTS is set.
    shots: Option<PathBuf>,
    /// Declared after `client`: dropped (killed) only once the session is gone.
    _driver: Driver,
}

impl Browser {
    /// A browser on `base`, or `None` (after a loud notice) when Chromium is not installed
    /// outside CI. Under CI=true a missing browser fails the test.
    pub async fn start(base: &str) -> Option<Self> {
        let missing: Vec<&str> = [CHROMIUM, CHROMEDRIVER]
            .into_iter()
            .filter(|path| !Path::new(path).exists())
            .collect();
        if !missing.is_empty() {
            assert!(
                !common::services_required(),
                "CI=true and the browser tests need {missing:?} (apt-get install chromium \
                 chromium-driver; scripts/test does it)"
            );
            // Straight to the stderr handle: eprintln! is captured (hidden) for passing tests.
            let _ = writeln!(
                std::io::stderr(),
                "\n******** SKIPPED: the browser tests did not run: {missing:?} not installed \
                 (apt-get install chromium chromium-driver) ********\n"
            );
            return None;
        }
        let driver = Driver::start().await.expect("chromedriver starts");
        let (width, height) = DESKTOP;
        let capabilities = json!({
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": CHROMIUM,
                "args": ["--headless=new", "--no-sandbox", "--disable-dev-shm-usage",
                         "--disable-gpu", format!("--window-size={width},{height}")],
            }
        });
        let Value::Object(capabilities) = capabilities else {
            unreachable!("a JSON object literal");
        };
        // chromedriver is plain HTTP on loopback: no TLS, so no rustls crypto provider.
        let client = ClientBuilder::new(HttpConnector::new())
            .capabilities(capabilities)
            .connect(&driver.url)
            .await
            .expect("a WebDriver session with headless Chromium");
        let shots = std::env::var_os("RAMP_SCREENSHOTS").map(PathBuf::from);
        let browser = Self {
            client,
            base: base.trim_end_matches('/').to_owned(),
            shots,
            _driver: driver,
        };
        browser.resize(DESKTOP).await.expect("the desktop viewport");
        if let Some(dir) = &browser.shots {
            std::fs::create_dir_all(dir).expect("the screenshot directory");
        }
        Some(browser)
    }

    /// Ends the WebDriver session (which quits Chromium), then chromedriver.
    pub async fn close(self) {
        if let Err(error) = self.client.close().await.short() {
            eprintln!("closing the WebDriver session: {error}");
        }
    }

    /// Opens a route of the UI, e.g. `#/features/chat`.
    pub async fn open(&self, route: &str) -> Outcome {
        let url = format!("{}/{route}", self.base);
        self.client
            .goto(&url)
            .await
            .short()
            .context(format!("opening {url}"))
    }

    /// Every element matching the CSS selector now.
    async fn find_all(&self, css: &str) -> Outcome<Vec<Element>> {
        self.client.find_all(Locator::Css(css)).await.short()
    }

    /// The first matching element, once there is one.
    pub async fn find(&self, css: &str) -> Outcome<Element> {
        poll(&format!("`{css}`"), || async {
            let found = self.find_all(css).await?;
            found.into_iter().next().context("no such element")
        })
        .await
    }

    /// How many elements match now (no waiting).
    pub async fn count(&self, css: &str) -> Outcome<usize> {
        let found = self.find_all(css).await;
        Ok(found.context(format!("finding `{css}`"))?.len())
    }

    /// Clicks the element once it exists and can be clicked. The views re-render on live
    /// events, so a click that meets a replaced ("stale") element is tried again.
    pub async fn click(&self, css: &str) -> Outcome {
        poll(&format!("a click on `{css}`"), || async {
            let element = self.find(css).await?;
            element.click().await.short()
        })
        .await
    }

    /// Types into a field after clearing it (again from the start if the field is replaced).
    pub async fn fill(&self, css: &str, text: &str) -> Outcome {
        poll(&format!("typing into `{css}`"), || async {
            let element = self.find(css).await?;
            element.clear().await.short()?;
            element.send_keys(text).await.short()
        })
        .await
    }

    /// Chooses the option with this value in a `<select>`, as a user's click does.
    pub async fn select(&self, css: &str, value: &str) -> Outcome {
        self.click(&format!("{css} option[value=\"{value}\"]"))
            .await
    }

    /// Sets a field's value as a paste does (one input event), for texts too long to type.
    pub async fn paste(&self, css: &str, text: &str) -> Outcome {
        self.find(css).await?;
        self.js(
            "const field = document.querySelector(arguments[0]);
             field.value = arguments[1];
             field.dispatchEvent(new Event('input', {bubbles: true}));
             field.dispatchEvent(new Event('change', {bubbles: true}));",
            vec![json!(css), json!(text)],
        )
        .await
        .map(drop)
    }

    /// The rendered text of the first match, once there is one ("" when hidden).
    pub async fn text(&self, css: &str) -> Outcome<String> {
        poll(&format!("the text of `{css}`"), || async {
            let element = self.find(css).await?;
            element.text().await.short()
        })
        .await
    }

    /// The current value of a form field.
    pub async fn value(&self, css: &str) -> Outcome<String> {
        poll(&format!("the value of `{css}`"), || async {
            let element = self.find(css).await?;
            Ok(element.prop("value").await.short()?.unwrap_or_default())
        })
        .await
    }

    /// An attribute of the first match.
    pub async fn attribute(&self, css: &str, name: &str) -> Outcome<Option<String>> {
        let element = self.find(css).await?;
        element.attr(name).await.short()
    }

    /// The text and one attribute of every match now (no waiting).
    pub async fn items(&self, css: &str, name: &str) -> Outcome<Vec<(String, Option<String>)>> {
        let mut items = Vec::new();
        for element in self.find_all(css).await? {
            let text = element.text().await.short()?;
            items.push((text, element.attr(name).await.short()?));
        }
        Ok(items)
    }

    /// Waits until the element's text contains `needle`, and returns that text.
    pub async fn wait_text(&self, css: &str, needle: &str) -> Outcome<String> {
        poll(&format!("`{css}` to contain {needle:?}"), || async {
            let element = self.find(css).await?;
            let text = element.text().await.short()?;
            ensure!(text.contains(needle), "{text:?}");
            Ok(text)
        })
        .await
    }

    /// Accepts the page's confirmation dialog if it is open: call it while polling for what an
    /// action that may ask first ("Undo") should do.
    pub async fn accept_confirmation(&self) -> Outcome {
        let asking = self
            .js(
                "return !!document.querySelector('#confirm-dialog')?.open",
                vec![],
            )
            .await?;
        if asking == true {
            self.click("#confirm-ok").await?;
        }
        Ok(())
    }

    /// Runs a script in the page; a returned promise is awaited by the WebDriver.
    pub async fn js(&self, script: &str, args: Vec<Value>) -> Outcome<Value> {
        let first_line = script.trim().lines().next().unwrap_or_default();
        self.client
            .execute(script, args)
            .await
            .short()
            .context(format!("running script `{first_line} ...`"))
    }

    /// Sizes the window so that the page's viewport is `width` x `height`: the window size
    /// includes the browser's (invisible, in headless mode) frame, which is measured first.
    pub async fn resize(&self, (width, height): (u32, u32)) -> Outcome {
        let what = format!("resizing the viewport to {width}x{height}");
        self.client
            .set_window_size(width, height)
            .await
            .short()
            .context(&what)?;
        let inner = self.js("return [innerWidth, innerHeight]", vec![]).await?;
        let (Some(inner_width), Some(inner_height)) = (inner[0].as_u64(), inner[1].as_u64()) else {
            return Err(format!("{what}: the viewport measured {inner}"));
        };
        let frame = |outer: u32, inner: u64| outer + outer.saturating_sub(inner as u32);
        self.client
            .set_window_size(frame(width, inner_width), frame(height, inner_height))
            .await
            .short()
            .context(what)
    }

    /// Saves a PNG of the viewport as `DIR/NAME.png` when RAMP_SCREENSHOTS names a directory.
    pub async fn screenshot(&self, name: &str) -> Outcome {
        let Some(dir) = &self.shots else {
            return Ok(());
        };
        // A toast left from an earlier step would cover the screen: hide it; then let fonts and
        // the last render settle, so the picture shows the finished screen.
        self.js(
            "document.getElementById('toast')?.setAttribute('hidden', '');
             return document.fonts.ready.then(() => new Promise(done =>
               requestAnimationFrame(() => requestAnimationFrame(() => done(true)))))",
            vec![],
        )
        .await?;
        let png = self
            .client
            .screenshot()
            .await
            .short()
            .context(format!("screenshot {name}"))?;
        let path = dir.join(format!("{name}.png"));
        std::fs::write(&path, png).context(format!("writing {}", path.display()))
    }

    /// Whether screenshots are being taken.
    pub fn screenshots(&self) -> bool {
        self.shots.is_some()
    }
}

/// The shared state of one run: the server, the browser and the names the scenarios use.
pub struct Scene {
    pub server: TestServer,
    pub browser: Browser,
    pub feature: String,
    pub group: String,
    pub viewer: (String, String),
}

impl Scene {
    /// The feature as the API reports it (admin token).
    pub async fn api_feature(&self) -> Outcome<Value> {
        let path = format!("/api/v1/features/{}", self.feature);
        let (status, body) = self.server.get_json(&path).await;
        ensure!(status == 200, "GET {path} answered {status}: {body}");
        Ok(body)
    }

    /// Waits until the API's view of the feature satisfies `check` (it names the mismatch).
    pub async fn wait_api<F>(&self, what: &str, check: F) -> Outcome<Value>
    where
        F: Fn(&Value) -> Outcome,
    {
        poll(what, || async {
            let feature = self.api_feature().await?;
            check(&feature)?;
            Ok(feature)
        })
        .await
    }
}

/// Whether a JSON array holds the string.
pub fn holds(list: &Value, item: &str) -> bool {
    list.as_array()
        .is_some_and(|items| items.iter().any(|value| value == item))
}
