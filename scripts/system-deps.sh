#!/usr/bin/env bash
# Debian packages the tests need (PostgreSQL server for the database tests,
# Chromium and its driver for the browser tests, poppler-utils' pdftotext and
# pdftoppm for the PDF report tests, GDAL's ogr2ogr for the OGC API client
# tests, wrk for bench/api.py) and the PDF report needs at run time
# (WeasyPrint's Pango text layout and a font). Installs only what is
# missing; needs root (or sudo) the first time.
set -euo pipefail
pkgs=(postgresql chromium chromium-driver poppler-utils libpango-1.0-0 libpangoft2-1.0-0 fonts-dejavu-core gdal-bin wrk)
missing=()
for p in "${pkgs[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
echo "installing Debian packages: ${missing[*]}"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
