#!/usr/bin/env python3
"""Drives the lab in headless Chromium (chromium + chromium-driver from Debian, selenium from
PyPI): starts `convkit lab` on a free port, opens every page, draws on the playground and the
digit canvas with real pointer events, and checks that the panels change and that the numbers
on the pages match the JSON API. Screenshots go to the folder given (CI keeps them).

    python scripts/lab_browser_test.py .build/release/convkit lab-screenshots
"""
import json
import os
import subprocess
import sys
import time
import urllib.request

from selenium import webdriver
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

binary, shots = sys.argv[1], sys.argv[2]
os.makedirs(shots, exist_ok=True)
server = subprocess.Popen([binary, "lab", "--port", "0"], stdout=subprocess.PIPE, text=True)
failures = []


def check(condition, what):
    print(("ok   " if condition else "FAIL ") + what)
    if not condition:
        failures.append(what)


def api(path, body=None):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(base + path, data=data, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req) as r:
        return json.load(r)


try:
    line = server.stdout.readline().strip()
    base = line.split(" ", 2)[-1]
    check(base.startswith("http://127.0.0.1:"), f"server prints its URL ({line})")
    options = webdriver.ChromeOptions()
    for flag in ["--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1280,1000"]:
        options.add_argument(flag)
    if os.path.exists("/usr/bin/chromium"):
        options.binary_location = "/usr/bin/chromium"
    # Debian's driver, so selenium does not try to download one (no internet here).
    service = Service("/usr/bin/chromedriver") if os.path.exists("/usr/bin/chromedriver") else None
    driver = webdriver.Chrome(options=options, service=service)
    wait = WebDriverWait(driver, 20)

    def canvas_data(element_id):
        return driver.execute_script(f"return document.getElementById('{element_id}').toDataURL()")

    def errors():
        return driver.execute_script("return document.getElementById('error') ? document.getElementById('error').textContent : ''")

    # Playground: draw a stroke, every kernel panel must change, round trip reported.
    driver.get(base + "playground.html")
    wait.until(lambda d: d.find_element(By.ID, "timing").text.startswith("round trip"))
    before = [canvas_data(f"out{i}") for i in range(4)]
    canvas = driver.find_element(By.ID, "draw")
    ActionChains(driver).move_to_element_with_offset(canvas, -80, -60).click_and_hold() \
        .move_by_offset(60, 40).move_by_offset(60, 40).move_by_offset(40, -20).release().perform()
    time.sleep(1.0)
    after = [canvas_data(f"out{i}") for i in range(4)]
    check(all(a != b for a, b in zip(before, after)), "playground: all four output panels change when drawing")
    check("cells" in driver.current_url or "%22cells%22" in driver.current_url, "playground: the drawing is in the URL")
    timing = driver.find_element(By.ID, "timing").text
    check(timing.startswith("round trip") and float(timing.split()[2]) < 200, f"playground: {timing}")
    driver.save_screenshot(os.path.join(shots, "playground.png"))
    driver.find_element(By.ID, "fill").click()
    time.sleep(0.8)
    driver.save_screenshot(os.path.join(shots, "playground-fill.png"))

    # Stepper: the explanation is the API's text; stepping moves it.
    driver.get(base + "stepper.html")
    wait.until(lambda d: "Position (0, 0)" in d.find_element(By.ID, "explain").text)
    expected = api("api/steps", {"channels": [[[1, 2, 0, 1, 2], [0, 1, 2, 1, 0], [2, 0, 1, 0, 1], [1, 2, 0, 2, 1], [0, 1, 2, 1, 0]]],
                                 "kernels": [[[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]]]})
    check(driver.find_element(By.ID, "explain").text == expected["steps"][0][0]["text"], "stepper: position (0, 0) matches the API")
    driver.find_element(By.ID, "step").click()
    check(driver.find_element(By.ID, "explain").text == expected["steps"][0][1]["text"], "stepper: Step shows position (0, 1)")
    check("= 3" in driver.find_element(By.ID, "formula").text, "stepper: output-size formula shown")
    driver.save_screenshot(os.path.join(shots, "stepper.png"))
    driver.find_element(By.ID, "transposed").click()
    wait.until(lambda d: "adds" in d.find_element(By.ID, "explain").text)
    driver.save_screenshot(os.path.join(shots, "stepper-transposed.png"))

    def page(name, wait_id, wait_text, check_id, check_text, label):
        """Opens a page, waits for `wait_text` in #wait_id, checks `check_text` in #check_id, keeps a screenshot."""
        driver.get(base + name + ".html")
        wait.until(lambda d: wait_text in d.find_element(By.ID, wait_id).text)
        check(check_text in driver.find_element(By.ID, check_id).text, label)
        driver.save_screenshot(os.path.join(shots, name + ".png"))

    # 1-D: the explanation and the Conv1d parameter count come from the API.
    page("conv1d", "params", "3,328", "explain", "Position 0:", "conv1d: step explanation shown")
    page("receptive-field", "summary", "7×7", "summary", "7×7", "receptive field: three 3×3 layers see 7×7")
    page("connectivity", "convCount", "9 shared", "fcCount", "256 unique", "connectivity: 256 unique weights vs 9 shared")
    page("params", "result", "150,529,000", "result", "1,792", "params: 150,529,000 vs 1,792")

    # Digit lab: draw, probabilities appear and sum to ~100 %, feature maps drawn; train briefly.
    driver.get(base + "digits.html")
    canvas = driver.find_element(By.ID, "draw")
    ActionChains(driver).move_to_element_with_offset(canvas, -20, -70).click_and_hold() \
        .move_by_offset(10, 50).move_by_offset(5, 50).move_by_offset(0, 40).release().perform()
    wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, "#features canvas"))
    probs = driver.find_element(By.ID, "probs").text.splitlines()
    check(len(probs) == 10, "digits: ten class probabilities shown")
    total = sum(float(line.split()[-1].rstrip("%")) for line in probs)
    check(abs(total - 100) < 1.5, f"digits: probabilities sum to {total:.1f} %")
    check(len(driver.find_elements(By.CSS_SELECTOR, "#features canvas")) >= 32, "digits: feature maps drawn")
    driver.find_element(By.ID, "train").click()
    wait.until(lambda d: "batch" in d.find_element(By.ID, "status").text)
    time.sleep(3)
    driver.save_screenshot(os.path.join(shots, "digits-training.png"))
    driver.find_element(By.ID, "stop").click()
    WebDriverWait(driver, 60).until(lambda d: "stopped" in d.find_element(By.ID, "status").text or "done" in d.find_element(By.ID, "status").text)
    status = driver.find_element(By.ID, "status").text
    check("stopped" in status or "done" in status, "digits: training streams progress and stops on request")
    driver.save_screenshot(os.path.join(shots, "digits.png"))
    for page in ["playground", "stepper", "conv1d", "receptive-field", "connectivity", "params", "digits"]:
        driver.get(base + page + ".html")
        time.sleep(0.5)
        check(errors() == "", f"{page}: no error shown")
    driver.quit()
finally:
    server.terminate()

print(f"{len(failures)} failure(s)")
sys.exit(1 if failures else 0)
