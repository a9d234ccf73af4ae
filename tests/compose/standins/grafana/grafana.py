"""Stand-in for the Grafana image in the Compose test: loads the dashboards the mounted
provisioning names (/etc/grafana/provisioning/dashboards/*.yml, `options.path`) and the
datasources, and serves them the way Grafana's HTTP API does for a viewer."""

import json
import pathlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import yaml

PROVISIONING = pathlib.Path("/etc/grafana/provisioning")


def load() -> tuple[dict, list]:
    dashboards = {}
    for provider_file in sorted((PROVISIONING / "dashboards").glob("*.y*ml")):
        for provider in yaml.safe_load(provider_file.read_text()).get("providers", []):
            for path in sorted(pathlib.Path(provider["options"]["path"]).glob("*.json")):
                dash = json.loads(path.read_text())
                dashboards[dash["uid"]] = {"dashboard": dash, "meta": {"folderTitle": provider.get("folder", ""),
                                                                     "provisioned": True}}
    sources = []
    for source_file in sorted((PROVISIONING / "datasources").glob("*.y*ml")):
        sources += yaml.safe_load(source_file.read_text()).get("datasources", [])
    return dashboards, sources


DASHBOARDS, DATASOURCES = load()


class Handler(BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802 (http.server's name)
        if self.path == "/api/health":
            return self.reply({"database": "ok", "version": "stand-in"})
        if self.path.startswith("/api/search"):
            return self.reply([{"uid": uid, "title": d["dashboard"]["title"], "type": "dash-db"}
                               for uid, d in DASHBOARDS.items()])
        if self.path == "/api/datasources":
            return self.reply(DATASOURCES)
        if self.path.startswith("/api/dashboards/uid/"):
            found = DASHBOARDS.get(self.path.rsplit("/", 1)[1])
            return self.reply(found) if found else self.reply({"message": "Dashboard not found"}, 404)
        return self.reply({"message": "Not found"}, 404)

    def reply(self, body, status: int = 200) -> None:
        raw = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)


ThreadingHTTPServer(("0.0.0.0", 3000), Handler).serve_forever()
