"""The EgoMCQ question browser of nbs/21_egomcq_analysis.ipynb (`egovlp.analysis.MCQBrowser`) in a real browser.

Writes a two-cell notebook that builds the browser as 21 does — `egomcq_results` then `MCQBrowser(r, mcq)` — for a
tiny random model on the tiny mini-EgoClip (12 questions), starts JupyterLab on 127.0.0.1 (with a token) over it,
opens it in headless Chromium (Debian's `chromium` package at /usr/bin/chromium, driven by Playwright's python
package: no Playwright browser download), runs all cells, clicks `next` twice and checks that the page shows the frame
strip (five candidate images that load) and the five scores; saves a screenshot and prints its path.

Not the whole of notebook 21: that one evaluates the mini pretrained model (trained on a cold cache: minutes) and
is run by tests/test_notebooks.py already; here only the widget in the browser is under test (~30 s).

Skips (with the reason) when chromium or playwright is missing locally; under CI (CI=true, or
EGOVLP_REQUIRE_BROWSER=1, which .ci/run sets after installing chromium) a missing browser is a failure.
"""
import os, secrets, shutil, socket, subprocess, sys, time, urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = os.environ.get('EGOVLP_CHROMIUM', '/usr/bin/chromium')
FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
         '--disable-sync', '--no-first-run']
REQUIRED = os.environ.get('EGOVLP_REQUIRE_BROWSER', '') == '1' or os.environ.get('CI', '') == 'true'
SERVER_START_S, NOTEBOOK_OPEN_S, RUN_ALL_S, CLICK_S = 90, 120, 240, 60   # bounded waits (s)
NB_NAME = 'egomcq_browser.ipynb'
CELLS = [   # what 21_egomcq_analysis does to show its browser, on a tiny random model and the tiny mini-EgoClip
    """import tempfile, torch
from pathlib import Path
from egovlp.model import FrozenInTime, tiny_video_params, tiny_text_params
from egovlp.synth import make_mini_egoclip, MINI_TINY
from egovlp.analysis import egomcq_results, MCQBrowser
root, ck = make_mini_egoclip(**MINI_TINY), Path(tempfile.mkdtemp())/'tiny.pth'
args = dict(video_params=tiny_video_params(), text_params=tiny_text_params())
torch.manual_seed(0)
torch.save({'state_dict': FrozenInTime(**args).state_dict(), 'config': {'arch': {'args': args}}}, ck)
r, mcq = egomcq_results(ck, egomcq=root/'egomcq.json', data_dir=root/'videos', chunk_sec=MINI_TINY['chunk_sec'], device='cpu')
print(r)""",
    "browser = MCQBrowser(r, mcq)\nbrowser"]


def _write_notebook(path: Path):
    import nbformat
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in CELLS])
    nb.metadata['kernelspec'] = {'display_name': 'python3', 'language': 'python', 'name': 'python3'}
    nbformat.write(nb, str(path))


def _missing():
    if not Path(CHROMIUM).is_file(): return f"{CHROMIUM} is not installed (Debian: apt-get install chromium)"
    try: import playwright.sync_api  # noqa: F401
    except ImportError: return "the playwright python package is not installed (pip install playwright)"
    try: import ipywidgets  # noqa: F401
    except ImportError: return "ipywidgets is not installed"
    return None


def _free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0)); return s.getsockname()[1]


def _start_lab(root: Path, port: int, token: str, log):
    env = {**os.environ, 'PYTHONPATH': os.pathsep.join([str(ROOT), os.environ.get('PYTHONPATH', '')]).rstrip(os.pathsep),
           'JUPYTER_CONFIG_DIR': str(root/'.jupyter'), 'JUPYTER_RUNTIME_DIR': str(root/'.runtime'),
           'JUPYTERLAB_SETTINGS_DIR': str(root/'.lab-settings'), 'JUPYTERLAB_WORKSPACES_DIR': str(root/'.lab-workspaces')}
    cmd = [sys.executable, '-m', 'jupyter', 'lab', '--no-browser', '--ServerApp.ip=127.0.0.1', f'--ServerApp.port={port}',
           '--ServerApp.port_retries=0', f'--IdentityProvider.token={token}', f'--ServerApp.root_dir={root}',
           '--LabApp.news_url=', '--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate',
           '--LabApp.extension_manager=readonly', '--ServerApp.terminals_enabled=False', '--allow-root']
    proc = subprocess.Popen(cmd, cwd=root, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f'http://127.0.0.1:{port}/api/status?token={token}'
    t0 = time.time()
    while time.time() - t0 < SERVER_START_S:
        if proc.poll() is not None: raise RuntimeError(f"jupyter lab exited with {proc.returncode}; see {log.name}")
        try:
            with urllib.request.urlopen(url, timeout=2) as r:
                if r.status == 200: return proc
        except OSError: time.sleep(0.5)
    proc.kill(); raise TimeoutError(f"jupyter lab did not answer on 127.0.0.1:{port} within {SERVER_START_S}s; see {log.name}")


def _stop(proc):
    if proc.poll() is None:
        proc.terminate()
        try: proc.wait(15)
        except subprocess.TimeoutExpired: proc.kill(); proc.wait(5)


def test_question_browser_in_chromium(tmp_path):
    reason = _missing()
    if reason:
        if REQUIRED: pytest.fail(f"browser test required under CI but {reason}")
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright
    work = tmp_path/'lab'; work.mkdir()
    _write_notebook(work/NB_NAME)
    port, token = _free_port(), secrets.token_hex(16)
    shot = tmp_path/'egomcq_browser.png'
    with open(tmp_path/'jupyter.log', 'w') as log:
        lab = _start_lab(work, port, token, log)
        try:
            with sync_playwright() as p:
                ctx = p.chromium.launch_persistent_context(str(tmp_path/'chromium-profile'), executable_path=CHROMIUM,
                                                           headless=True, args=FLAGS, viewport={'width': 2000, 'height': 1100})
                try:
                    page = ctx.new_page()
                    page.set_default_timeout(CLICK_S * 1000)
                    page.goto(f'http://127.0.0.1:{port}/lab/tree/{NB_NAME}?token={token}',
                              timeout=NOTEBOOK_OPEN_S * 1000)
                    page.wait_for_selector('.jp-NotebookPanel .jp-Cell', timeout=NOTEBOOK_OPEN_S * 1000)
                    page.wait_for_selector('.jp-Notebook-ExecutionIndicator[data-status="idle"], '
                                           '.jp-Toolbar-kernelStatus', timeout=NOTEBOOK_OPEN_S * 1000)
                    time.sleep(2)                                 # let the kernel connection settle
                    page.click('.jp-NotebookPanel .jp-Cell')      # focus the notebook, then Run ▸ Run All Cells
                    page.click('.lm-MenuBar-item:has-text("Run")')
                    page.click('.lm-Menu-item[data-command="runmenu:run-all"]')
                    strip = '.egomcq-browser .egomcq-strip'
                    page.wait_for_selector(strip, timeout=RUN_ALL_S * 1000)
                    question = page.locator('.egomcq-browser .egomcq-question')
                    keys = [question.get_attribute('data-key')]
                    for _ in range(2):                            # click through two questions
                        page.locator('.egomcq-browser button:has-text("next")').click()
                        page.wait_for_function(
                            "k => { const q = document.querySelector('.egomcq-browser .egomcq-question');"
                            " return q && q.getAttribute('data-key') !== k; }", arg=keys[-1], timeout=CLICK_S * 1000)
                        keys.append(question.get_attribute('data-key'))
                    imgs = page.locator(f'{strip} img')
                    scores = page.locator(f'{strip} .egomcq-score')
                    assert imgs.count() == 5, f"expected 5 candidate frame strips, found {imgs.count()}"
                    assert scores.count() == 5, f"expected 5 scores, found {scores.count()}"
                    texts = scores.all_inner_texts()
                    assert all('score' in t for t in texts), texts
                    assert any('answer' in t for t in texts), texts
                    assert all(img.evaluate('e => e.complete && e.naturalWidth > 0') for img in imgs.all()), 'an image did not load'
                    status = page.locator('.egomcq-browser .widget-label', has_text='matching').first.inner_text()
                    assert status.startswith('3 / '), status
                    page.locator('.egomcq-browser').scroll_into_view_if_needed()
                    page.screenshot(path=str(shot))
                finally: ctx.close()
        finally: _stop(lab)
    assert len(set(keys)) == 3, keys
    assert shot.stat().st_size > 10_000
    print(f"\nbrowser test: questions {keys}, scores {texts}\nscreenshot: {shot}")
    if os.environ.get('EGOVLP_SCREENSHOT_DIR'):
        dst = Path(os.environ['EGOVLP_SCREENSHOT_DIR']); dst.mkdir(parents=True, exist_ok=True)
        shutil.copy(shot, dst/shot.name); print(f"screenshot copied to {dst/shot.name}")
