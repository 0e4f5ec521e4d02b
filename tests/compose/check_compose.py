#!/usr/bin/python3
"""Checks compose/ (docker-compose.yml, Dockerfile, nginx.conf) against the tidemark binary.

    /usr/bin/python3 tests/compose/check_compose.py \
        --tidemark build/app/tidemark --compose-dir compose

Run it with Debian's /usr/bin/python3 (it needs python3-yaml, which another python3 on PATH may
lack). No Docker daemon is needed. What it verifies:

  * docker-compose.yml parses, and has the expected services;
  * every service running the tidemark image has a command whose first word is a role, and
    sets only TIDEMARK_* variables that `tidemark ROLE --help` lists, so renaming or dropping
    a setting in the code breaks this test instead of a deployment;
  * every ${TIDEMARK_*} compose variable is a setting some role lists;
  * depends_on names existing services with valid conditions (service_healthy needs a
    healthcheck);
  * the Dockerfile has at least two Debian bookworm stages and installs the -dev packages;
  * nginx.conf proxies to the api service on the api's TIDEMARK_HTTP_PORT;
  * if docker-compose (v1) is installed, `docker-compose config -q` accepts the file.

Prints "ok: ..." or "FAIL: ..." per check and exits non-zero if any check failed.
"""

import argparse
import os
import re
import shutil
import subprocess
import sys

try:
    import yaml
except ImportError:
    print("FAIL: PyYAML is missing; run with /usr/bin/python3 (Debian package python3-yaml)")
    sys.exit(2)

EXPECTED_SERVICES = [
    "kafka", "kafka-init", "postgres", "migrate", "api", "projector", "inference", "proxy",
]
# The role each of these services must run (service name -> first word of its command).
EXPECTED_ROLES = {"migrate": "migrate", "api": "api", "projector": "projector",
                  "inference": "inference"}
# Roles outside compose whose --help also counts as "a setting exists" for ${TIDEMARK_*}
# compose variables (TIDEMARK_TOPIC_PARTITIONS belongs to `broker`).
EXTRA_ROLES = ["broker", "dev"]
TIDEMARK_IMAGE = "tidemark"
DOCKERFILE_PATH = "compose/Dockerfile"
REQUIRED_BUILD_PACKAGES = [
    "libpistache-dev", "librdkafka-dev", "libpqxx-dev", "rapidjson-dev", "libssl-dev",
]
DEPENDS_CONDITIONS = {"service_started", "service_healthy", "service_completed_successfully"}
VARIABLE = re.compile(r"TIDEMARK_[A-Z0-9_]+")


class Checker:
    def __init__(self):
        self.passed = 0
        self.failed = 0

    def ok(self, message):
        self.passed += 1
        print(f"ok: {message}", flush=True)

    def fail(self, message):
        self.failed += 1
        print(f"FAIL: {message}", flush=True)

    def check(self, condition, message, detail=""):
        if condition:
            self.ok(message)
        else:
            self.fail(f"{message}{': ' + detail if detail else ''}")
        return condition


# --- helpers ------------------------------------------------------------------------------------

def words(value):
    """A compose command/entrypoint (string or list) as a list of words."""
    if value is None:
        return []
    if isinstance(value, str):
        return value.split()
    return [str(item) for item in value]


def environment_of(service):
    """A service's environment as a dict, from either the mapping or the list form."""
    env = service.get("environment") or {}
    if isinstance(env, dict):
        return {str(key): value for key, value in env.items()}
    result = {}
    for item in env:
        key, _, value = str(item).partition("=")
        result[key] = value
    return result


def depends_of(service):
    """depends_on as {service: condition}, from either the list or the mapping form."""
    deps = service.get("depends_on") or {}
    if isinstance(deps, list):
        return {str(name): "service_started" for name in deps}
    return {str(name): (spec or {}).get("condition", "service_started")
            for name, spec in deps.items()}


def uses_tidemark_image(service):
    image = str(service.get("image", ""))
    name = image.rsplit("/", 1)[-1].split(":", 1)[0]
    build = service.get("build")
    dockerfile = build.get("dockerfile", "") if isinstance(build, dict) else ""
    return name == TIDEMARK_IMAGE or str(dockerfile).endswith(DOCKERFILE_PATH)


def lists_variable(help_text, variable):
    """True if a line of the help output names the variable (as a whole word)."""
    pattern = re.compile(rf"(?<![A-Z0-9_]){re.escape(variable)}(?![A-Z0-9_])")
    return any(pattern.search(line) for line in help_text.splitlines())


class Tidemark:
    """Runs `tidemark ROLE --help`, caching the result per role."""

    def __init__(self, binary):
        self.binary = binary
        self.cache = {}

    def help(self, role):
        """(exit status, combined output) of `tidemark ROLE --help`."""
        if role not in self.cache:
            try:
                done = subprocess.run([self.binary, role, "--help"], stdout=subprocess.PIPE,
                                      stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                      timeout=30, check=False)
                self.cache[role] = (done.returncode,
                                    done.stdout.decode("utf-8", errors="replace"))
            except (OSError, subprocess.TimeoutExpired) as error:
                self.cache[role] = (-1, str(error))
        return self.cache[role]


# --- docker-compose.yml -------------------------------------------------------------------------

def check_compose(checker, compose_dir, tidemark):
    """Returns the parsed services (or None when the file is unusable)."""
    path = os.path.join(compose_dir, "docker-compose.yml")
    try:
        with open(path, encoding="utf-8") as stream:
            text = stream.read()
        document = yaml.safe_load(text)
    except OSError as error:
        checker.fail(f"cannot read {path}: {error}")
        return None, None
    except yaml.YAMLError as error:
        checker.fail(f"{path} is not valid YAML: {error}")
        return None, None
    if not isinstance(document, dict) or not isinstance(document.get("services"), dict):
        checker.fail(f"{path} has no `services:` mapping")
        return None, None
    checker.ok(f"{path} parses")
    services = document["services"]

    missing = [name for name in EXPECTED_SERVICES if name not in services]
    checker.check(not missing, "expected services present: " + ", ".join(EXPECTED_SERVICES),
                  "missing " + ", ".join(missing))

    # Roles and their settings.
    roles = {}
    for name, service in services.items():
        if not isinstance(service, dict) or not uses_tidemark_image(service):
            continue
        entrypoint = words(service.get("entrypoint"))
        if entrypoint and os.path.basename(entrypoint[0]) != "tidemark":
            checker.fail(f"{name}: entrypoint {entrypoint} overrides the image's `tidemark`")
            continue
        command = words(service.get("command"))
        if not command or command[0].startswith("-"):
            checker.fail(f"{name}: uses the tidemark image but its command names no role")
            continue
        role = command[0]
        status, output = tidemark.help(role)
        if not checker.check(status == 0 and role in output,
                             f"{name}: command role `{role}` is a tidemark role",
                             f"`{tidemark.binary} {role} --help` exited {status}:\n"
                             + output.strip()):
            continue
        roles[name] = role
        for variable in sorted(environment_of(service)):
            if not variable.startswith("TIDEMARK_"):
                continue
            checker.check(lists_variable(output, variable),
                          f"{name}: {variable} is a setting of `tidemark {role}`",
                          f"not in `tidemark {role} --help`")

    for name, role in EXPECTED_ROLES.items():
        if name in services:
            checker.check(roles.get(name) == role,
                          f"{name}: runs the tidemark image with role `{role}`",
                          f"found {roles.get(name)!r}")

    # ${TIDEMARK_*} compose variables (e.g. TIDEMARK_TOPIC_PARTITIONS for kafka-init) must be
    # real settings too, of some role.
    interpolated = sorted(set(re.findall(r"\$\{(TIDEMARK_[A-Z0-9_]+)", text)))
    all_help = [tidemark.help(role) for role in sorted(set(roles.values()) | set(EXTRA_ROLES))]
    for variable in interpolated:
        checker.check(any(status == 0 and lists_variable(output, variable)
                          for status, output in all_help),
                      f"compose variable ${{{variable}}} is a setting of some tidemark role",
                      "no `tidemark ROLE --help` lists it")

    # depends_on.
    for name, service in services.items():
        for target, condition in depends_of(service).items():
            if not checker.check(target in services, f"{name}: depends_on `{target}` exists",
                                 "no such service"):
                continue
            checker.check(condition in DEPENDS_CONDITIONS,
                          f"{name}: depends_on `{target}` condition `{condition}` is valid")
            if condition == "service_healthy":
                checker.check("healthcheck" in services[target],
                              f"{name}: `{target}` has the healthcheck service_healthy waits for")

    if "api" in services:
        checker.check(not services["api"].get("ports"),
                      "api: publishes no port (only the proxy reaches it)")
    if "proxy" in services:
        mounts = [str(volume) for volume in services["proxy"].get("volumes") or []]
        checker.check(any("nginx.conf" in mount for mount in mounts),
                      "proxy: mounts nginx.conf")
    return services, roles


# --- Dockerfile ---------------------------------------------------------------------------------

def check_dockerfile(checker, compose_dir):
    path = os.path.join(compose_dir, "Dockerfile")
    try:
        with open(path, encoding="utf-8") as stream:
            text = stream.read()
    except OSError as error:
        checker.fail(f"cannot read {path}: {error}")
        return
    # Join continuation lines, drop comments.
    logical = re.sub(r"\\\n", " ", "\n".join(line for line in text.splitlines()
                                            if not line.lstrip().startswith("#")))
    images = []
    for line in logical.splitlines():
        parts = line.split()
        if parts and parts[0].upper() == "FROM":
            args = [part for part in parts[1:] if not part.startswith("--")]
            if args:
                images.append(args[0])
    bookworm = [image for image in images if re.fullmatch(r"(docker\.io/)?(library/)?"
                                                          r"debian:bookworm(-slim)?(@.*)?",
                                                          image)]
    checker.check(len(bookworm) >= 2, "Dockerfile: at least two Debian bookworm stages",
                  f"FROM images: {images}")

    packages = set()
    for match in re.finditer(r"apt-get\s+install\s+([^&;|\n]*)", logical):
        packages.update(word for word in match.group(1).split() if not word.startswith("-"))
    missing = [package for package in REQUIRED_BUILD_PACKAGES if package not in packages]
    checker.check(not missing, "Dockerfile: apt installs " + " ".join(REQUIRED_BUILD_PACKAGES),
                  "missing " + " ".join(missing))


# --- nginx.conf ---------------------------------------------------------------------------------

def check_nginx(checker, compose_dir, services, roles):
    path = os.path.join(compose_dir, "nginx.conf")
    try:
        with open(path, encoding="utf-8") as stream:
            text = re.sub(r"#[^\n]*", "", stream.read())
    except OSError as error:
        checker.fail(f"cannot read {path}: {error}")
        return
    api_names = [name for name, role in roles.items() if role == "api"]
    if not checker.check(len(api_names) == 1, "exactly one service runs `tidemark api`",
                         f"found {api_names}"):
        return
    api = api_names[0]
    port = environment_of(services[api]).get("TIDEMARK_HTTP_PORT")
    if not checker.check(port is not None and str(port).isdigit(),
                         f"{api}: sets TIDEMARK_HTTP_PORT", f"value {port!r}"):
        return
    expected = f"{api}:{port}"

    upstreams = {}
    for match in re.finditer(r"\bupstream\s+(\S+)\s*\{([^}]*)\}", text):
        upstreams[match.group(1)] = re.findall(r"(?:^|[;{\s])server\s+([^\s;]+)", match.group(2))
    targets = list(dict.fromkeys(re.findall(r"\bproxy_pass\s+([^;\s]+)\s*;", text)))
    if not checker.check(bool(targets), "nginx.conf: has proxy_pass"):
        return
    for target in targets:
        hostport = re.sub(r"^\w+://", "", target).split("/", 1)[0]
        servers = upstreams.get(hostport, [hostport])
        servers = [server if ":" in server else server + ":80" for server in servers]
        checker.check(bool(servers) and all(server == expected for server in servers),
                      f"nginx.conf: proxy_pass {target} reaches {expected}",
                      f"it reaches {servers}")


# --- docker-compose config (optional) -----------------------------------------------------------

def check_docker_compose_config(checker, compose_dir):
    program = shutil.which("docker-compose")
    if program is None:
        print("skip: docker-compose (v1) not installed; `docker-compose config` not run")
        return
    try:
        done = subprocess.run([program, "-f", "docker-compose.yml", "config", "-q"],
                              cwd=compose_dir, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                              stdin=subprocess.DEVNULL, timeout=60, check=False)
        status, output = done.returncode, done.stdout.decode("utf-8", errors="replace")
    except (OSError, subprocess.TimeoutExpired) as error:
        status, output = -1, str(error)
    checker.check(status == 0, "docker-compose config -q accepts docker-compose.yml",
                  output.strip())


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--tidemark", required=True, help="path to the tidemark binary")
    parser.add_argument("--compose-dir", required=True,
                        help="directory with docker-compose.yml, Dockerfile and nginx.conf")
    options = parser.parse_args()

    checker = Checker()
    binary = os.path.abspath(options.tidemark)
    if not (os.path.isfile(binary) and os.access(binary, os.X_OK)):
        checker.fail(f"{binary} is not an executable file")
    else:
        services, roles = check_compose(checker, options.compose_dir, Tidemark(binary))
        if services is not None:
            check_nginx(checker, options.compose_dir, services, roles)
    check_dockerfile(checker, options.compose_dir)
    check_docker_compose_config(checker, options.compose_dir)

    print(f"check_compose: {checker.passed} passed, {checker.failed} failed")
    return 1 if checker.failed else 0


if __name__ == "__main__":
    sys.exit(main())
