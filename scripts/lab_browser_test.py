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
# The photo lab reads published weights from a cache: an empty one (every model shows the
# command that fetches it), plus ResNet-18 when a torch-saved copy is at hand (CI generates one).
import shutil
import tempfile
home = tempfile.mkdtemp()
os.makedirs(os.path.join(home, "weights"))
resnet = os.path.join(os.path.dirname(__file__), "..", "Tests", "ConvKitTests", "Fixtures", "generated", "checkpoints", "resnet18.pth")
has_resnet = os.path.exists(resnet)
if has_resnet:
    shutil.copy(resnet, os.path.join(home, "weights", "resnet18-f37072fd.pth"))
server = subprocess.Popen([binary, "lab", "--port", "0"], stdout=subprocess.PIPE, text=True, env=dict(os.environ, CONVKIT_HOME=home))
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
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
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
    # The course's quick checks end the page: the answer follows a changed number.
    wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, "#quick-checks .quick-check"))
    first = driver.find_element(By.CSS_SELECTOR, "#quick-checks .quick-check")
    driver.execute_script("arguments[0].querySelector('details').open = true", first)
    check(first.find_element(By.CSS_SELECTOR, ".qc-answer").text == "786,433,000 parameters", "params: quick check answered with the course's numbers")
    units = first.find_elements(By.CSS_SELECTOR, "input")[3]
    units.clear(); units.send_keys("10\n")
    wait.until(lambda d: "7,864,330" in d.find_element(By.CSS_SELECTOR, "#quick-checks .quick-check").text)
    check(True, "params: a changed number is worked through by the server")
    driver.save_screenshot(os.path.join(shots, "params-quick-checks.png"))

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
    # Why this class: Grad-CAM over the drawing, then occlusion for a chosen class.
    wait.until(lambda d: d.execute_script("return document.getElementById('heatmap').naturalWidth") == 28)
    check("Grad-CAM" in driver.find_element(By.ID, "explained").text, "digits: Grad-CAM heat map over the drawing")
    from selenium.webdriver.support.ui import Select
    Select(driver.find_element(By.ID, "method")).select_by_value("occlusion")
    Select(driver.find_element(By.ID, "target")).select_by_visible_text("3")
    wait.until(lambda d: "Occlusion" in d.find_element(By.ID, "explained").text and "class 3" in d.find_element(By.ID, "explained").text)
    check(True, "digits: occlusion heat map for a chosen class")
    driver.save_screenshot(os.path.join(shots, "digits-explain.png"))
    driver.find_element(By.ID, "train").click()
    wait.until(lambda d: "batch" in d.find_element(By.ID, "status").text)
    time.sleep(3)
    driver.save_screenshot(os.path.join(shots, "digits-training.png"))
    driver.find_element(By.ID, "stop").click()
    WebDriverWait(driver, 60).until(lambda d: "stopped" in d.find_element(By.ID, "status").text or "done" in d.find_element(By.ID, "status").text)
    status = driver.find_element(By.ID, "status").text
    check("stopped" in status or "done" in status, "digits: training streams progress and stops on request")
    driver.save_screenshot(os.path.join(shots, "digits.png"))
    # Hostile and odd links (issue 16): nothing runs, nothing freezes, errors are shown and stale results cleared.
    from urllib.parse import quote
    hostile = {"kernels": [{"name": "<img src=x onerror=window.__xss=1>", "matrix": [[1]]},
                           {"name": "<script>window.__xss=2</script>", "matrix": [[0, 1], [1, 0]]}]}
    driver.get(base + "playground.html#" + quote(json.dumps(hostile)))
    wait.until(lambda d: d.find_element(By.ID, "timing").text.startswith("round trip"))
    time.sleep(0.5)
    check(driver.execute_script("return window.__xss === undefined"), "playground: a kernel name from a link runs no script")
    check("<img src=x onerror" in driver.find_element(By.ID, "kernels").text, "playground: the hostile name is shown as text")
    check(not driver.find_elements(By.CSS_SELECTOR, "#kernels img, #kernels script"), "playground: no element made from the name")
    cell = driver.find_element(By.CSS_SELECTOR, "#kernels input.cell")
    cell.clear(); cell.send_keys("abc")
    check("invalid" in cell.get_attribute("class"), "playground: a cell holding 'abc' is marked, not silently kept")
    driver.save_screenshot(os.path.join(shots, "playground-hostile-link.png"))
    # The page's own scripts and styles are files, so the CSP (no inline script) blocks nothing of ours.
    headers = urllib.request.urlopen(base + "playground.html").headers
    check("default-src 'self'" in (headers.get("Content-Security-Policy") or ""), "pages carry a Content-Security-Policy")
    check(headers.get("X-Content-Type-Options") == "nosniff", "pages carry X-Content-Type-Options: nosniff")
    try:
        logs = [e["message"] for e in driver.get_log("browser")]
    except Exception:
        logs = []
    check(not any("Content Security Policy" in m for m in logs), f"no CSP violations logged ({[m for m in logs if 'Content Security' in m][:2]})")

    pools = {"layers": [{"kind": "pool", "kernel": 2, "stride": 2, "dilation": 1, "padding": 0}] * 24}
    started = time.time()
    driver.get(base + "receptive-field.html#" + quote(json.dumps(pools)))
    wait.until(lambda d: "24 layers" in d.find_element(By.ID, "summary").text)
    check(time.time() - started < 10, f"receptive field: 24 pooling layers draw in {time.time() - started:.1f} s")
    driver.save_screenshot(os.path.join(shots, "receptive-field-24-pools.png"))

    even = {"padding": "same", "kernels": [[[1, 1], [1, 1]], [[1, 0], [0, 1]], [[0, 1], [1, 0]]]}
    driver.get(base + "stepper.html#" + quote(json.dumps(even)))
    wait.until(lambda d: "Position (0, 0)" in d.find_element(By.ID, "explain").text)
    rows = driver.find_elements(By.CSS_SELECTOR, "#tables .panel:first-child table tr")
    check(len(rows) == 6, f"stepper: 'same' with a 2×2 kernel draws the extra bottom padding row ({len(rows)} rows of 6)")
    driver.save_screenshot(os.path.join(shots, "stepper-same-even.png"))
    driver.find_element(By.ID, "transposed").click()
    wait.until(lambda d: "transposed" in d.find_element(By.ID, "error").text)
    check(not driver.find_elements(By.CSS_SELECTOR, "#tables table"), "stepper: transposed with 'same' is an error and clears the old result")

    driver.get(base + "conv1d.html#" + quote(json.dumps({"kernel": "abc"})))
    wait.until(lambda d: d.find_element(By.ID, "error").text != "")
    check("not a finite number" in errors(), f"conv1d: 'abc' as kernel is explained ({errors()})")
    driver.get("about:blank")  # a new hash alone would not reload the page
    driver.get(base + "conv1d.html#" + quote(json.dumps({"kernel": "1,0,-1", "dilation": "2"})))
    wait.until(lambda d: "Position 0:" in d.find_element(By.ID, "explain").text)
    check("2×(3 − 1)" in driver.find_element(By.ID, "explain").text, "conv1d: the dilation control reaches the formula")
    driver.save_screenshot(os.path.join(shots, "conv1d-dilation.png"))

    # Photo lab: a model whose weights are missing shows the command that fetches them; with
    # ResNet-18 cached, the photo goes through it: preprocessed picture, top 5, filters, a chosen layer's maps.
    driver.get(base + "photo.html")
    if has_resnet:
        wait.until(lambda d: len(d.find_element(By.ID, "top").text.splitlines()) == 5)
        check(driver.execute_script("return document.getElementById('prepared').naturalWidth") == 224, "photo: the network sees a 224×224 crop")
        from selenium.webdriver.support.ui import Select
        before = driver.execute_script("return document.getElementById('maps').getAttribute('src')")
        Select(driver.find_element(By.ID, "layer")).select_by_value("layer2.0.conv1")
        # The chosen layer's own maps: a new picture (not conv1's still on the page), fully loaded.
        wait.until(lambda d: d.execute_script("const m = document.getElementById('maps'); return m.getAttribute('src') !== arguments[0] && m.complete && m.naturalWidth > 0", before)
                   and d.find_element(By.ID, "layer").get_attribute("value") == "layer2.0.conv1")
        check(True, "photo: top 5 and a chosen layer's maps shown")
        wait.until(lambda d: d.execute_script("return document.getElementById('heatmap').naturalWidth") == 224)
        check("Grad-CAM at layer4" in driver.find_element(By.ID, "explained").text, "photo: Grad-CAM heat map over the photo")
        driver.save_screenshot(os.path.join(shots, "photo.png"))
        # A ResNet answer still on its way when another model is chosen must not land over it:
        # ask for another layer's maps and switch model at once (one script, so no answer can
        # refill the lists in between), then give that answer time to arrive.
        alexnet = next(i for i, o in enumerate(driver.find_elements(By.CSS_SELECTOR, "#model option")) if o.text.startswith("alexnet"))
        driver.execute_script("""
            const layer = document.getElementById('layer'), model = document.getElementById('model');
            layer.value = 'layer3.0.conv1'; layer.dispatchEvent(new Event('change'));
            model.value = String(arguments[0]); model.dispatchEvent(new Event('change'));""", alexnet)
        time.sleep(5)
    wait.until(lambda d: "convkit download weights" in d.find_element(By.ID, "fetch").text)
    check("convkit download weights alexnet" in driver.find_element(By.ID, "fetch").text, "photo: missing weights show the command that fetches them")
    check(driver.find_element(By.ID, "top").text == "" and not driver.execute_script("return document.getElementById('prepared').getAttribute('src')"),
          "photo: no stale result for a model without weights")
    driver.save_screenshot(os.path.join(shots, "photo-missing-weights.png"))

    for page in ["playground", "stepper", "conv1d", "receptive-field", "connectivity", "params", "digits", "photo"]:
        driver.get(base + page + ".html")
        time.sleep(0.5)
        check(errors() == "", f"{page}: no error shown")
    driver.quit()
finally:
    server.terminate()
    shutil.rmtree(home, ignore_errors=True)

print(f"{len(failures)} failure(s)")
sys.exit(1 if failures else 0)
