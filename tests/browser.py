"""A real browser for the console's stories: Debian's headless Chromium driven by selenium (chromedriver from the
same package). Selenium blocks, and the app under test serves from the test's own event loop, so every browser
step runs in a worker thread. Screenshots land in LENDFLOW_SCREENSHOTS (default: .lendflow/screenshots)."""

from __future__ import annotations

import asyncio
import os
import shutil
import time
from pathlib import Path
from typing import Any

import pytest
from selenium import webdriver
from selenium.common.exceptions import StaleElementReferenceException, WebDriverException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support.wait import WebDriverWait

SCREENSHOTS = Path(os.environ.get("LENDFLOW_SCREENSHOTS", ".lendflow/screenshots"))
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
DRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"


def browser_or_fail() -> None:
    if os.environ.get("LENDFLOW_SKIP_BROWSER") == "1":
        pytest.skip("LENDFLOW_SKIP_BROWSER=1")
    if not (Path(CHROMIUM).exists() and Path(DRIVER).exists()):
        pytest.fail("the console's browser tests need Chromium: apt-get install chromium chromium-driver (README)")


class Browser:
    def __init__(self, base_url: str, downloads: Path, size: tuple[int, int] = (1440, 900)) -> None:
        options = webdriver.ChromeOptions()
        options.binary_location = CHROMIUM
        for argument in (
            "--headless=new",
            "--no-sandbox",
            "--disable-dev-shm-usage",
            f"--window-size={size[0]},{size[1]}",
        ):
            options.add_argument(argument)
        options.add_experimental_option(
            "prefs", {"download.default_directory": str(downloads), "download.prompt_for_download": False}
        )
        self.driver = webdriver.Chrome(service=Service(DRIVER), options=options)
        self.driver.execute_cdp_cmd("Page.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(downloads)})
        if size[0] < 600:
            # A phone: headless Chromium's window is never narrower than 500 px, so the viewport is set as a
            # phone's (width, height, touch, the mobile meta viewport honoured).
            metrics = {"width": size[0], "height": size[1], "deviceScaleFactor": 2, "mobile": True}
            self.driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", metrics)
            self.driver.execute_cdp_cmd("Emulation.setTouchEmulationEnabled", {"enabled": True})
        self.base = base_url
        self.downloads = downloads

    async def run(self, step: Any, *args: Any) -> Any:
        return await asyncio.to_thread(step, *args)

    async def go(self, path: str) -> None:
        await self.run(self.driver.get, self.base + path)

    async def find(self, css: str, timeout_s: float = 10) -> WebElement:
        def found() -> WebElement:
            deadline = time.monotonic() + timeout_s
            while True:
                elements = self.driver.find_elements(By.CSS_SELECTOR, css)
                if elements:
                    return elements[0]
                if time.monotonic() > deadline:
                    raise AssertionError(f"no {css} on {self.driver.current_url}:\n{self.driver.page_source[:3000]}")
                time.sleep(0.1)

        return await self.run(found)

    async def fill(self, css: str, value: str) -> None:
        element = await self.find(css)

        def typed() -> None:
            element.clear()
            element.send_keys(value)

        await self.run(typed)

    async def click(self, css: str, navigates: bool = True) -> None:
        """Clicks; when the click loads another page (a link, a form), waits until the old page is gone, so what
        is read next is the new page. An element replaced under the pointer (a page still settling) is found again
        and clicked once more, as a person would."""

        def clicked() -> None:
            for attempt in range(5):
                try:
                    element = self.driver.find_element(By.CSS_SELECTOR, css)
                    old = self.driver.find_element(By.TAG_NAME, "html")
                    element.click()
                    break
                except (StaleElementReferenceException, WebDriverException) as err:
                    if attempt == 4 or not _replaced(err):
                        raise
                    time.sleep(0.2)
            if navigates:
                WebDriverWait(self.driver, 30).until(lambda _: _gone(old))

        await self.find(css)
        await self.run(clicked)

    async def text(self, css: str = "body") -> str:
        """The element's text; a part the page swapped (a live progress bar) between finding and reading it is
        found again."""
        for attempt in range(5):
            element = await self.find(css)
            try:
                return str(await self.run(lambda found=element: found.text))
            except StaleElementReferenceException:
                if attempt == 4:
                    raise
        raise AssertionError("unreachable")

    async def attribute(self, css: str, name: str) -> str:
        element = await self.find(css)
        return str(await self.run(element.get_attribute, name))

    async def path(self) -> str:
        url = str(await self.run(lambda: self.driver.current_url))
        return url.removeprefix(self.base)

    async def screenshot(self, name: str) -> Path:
        target = SCREENSHOTS / f"{name}.png"

        def shot() -> None:
            SCREENSHOTS.mkdir(parents=True, exist_ok=True)
            self.driver.save_screenshot(str(target))

        await self.run(shot)
        return target

    async def sign_in(self, email: str, password: str) -> None:
        await self.go("/console/sign-in")
        await self.fill("input[name=email]", email)
        await self.fill("input[name=password]", password)
        await self.click("button[type=submit]")
        await self.find("header.top")

    async def double_click(self, css: str) -> None:
        """Two clicks as fast as a person's double click, then waits for the page the form loads."""

        def clicked() -> None:
            element = self.driver.find_element(By.CSS_SELECTOR, css)
            old = self.driver.find_element(By.TAG_NAME, "html")
            ActionChains(self.driver).double_click(element).perform()
            WebDriverWait(self.driver, 30).until(lambda _: _gone(old))

        await self.find(css)
        await self.run(clicked)

    async def wait_for(self, css: str, timeout_s: float = 60) -> WebElement:
        """An element that appears on the page as it stands (the page swapping its own parts, no navigation)."""
        return await self.find(css, timeout_s)

    async def quit(self) -> None:
        await self.run(self.driver.quit)


def _gone(element: WebElement) -> bool:
    """The page the element was on has been replaced. Chromium says so either as a stale element or, since 15x, as
    "does not belong to the document"; both mean the new page is loading."""
    try:
        element.is_enabled()
    except (StaleElementReferenceException, WebDriverException) as err:
        if _replaced(err):
            return True
        raise
    return False


def _replaced(err: Exception) -> bool:
    text = str(err)
    return isinstance(err, StaleElementReferenceException) or "does not belong to the document" in text
