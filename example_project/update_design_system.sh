#!/usr/bin/env bash
# Refresh the Scottish Government Design System files vendored into the example's static
# files, so that `make demo` needs no Node. Run by hand (needs npm) after changing a version.
set -euo pipefail
DESIGN_SYSTEM_VERSION=4.2.0   # @scottish-government/design-system
ROBOTO_VERSION=5.3.0          # @fontsource/roboto (the design system's typeface; it ships none)
cd "$(dirname "$0")"
vendor=council/static/council/vendor
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
(cd "$work" && npm pack --silent "@scottish-government/design-system@$DESIGN_SYSTEM_VERSION" \
    "@fontsource/roboto@$ROBOTO_VERSION" >/dev/null)
mkdir -p "$work/ds" "$work/roboto"
tar xzf "$work"/scottish-government-design-system-*.tgz -C "$work/ds"
tar xzf "$work"/fontsource-roboto-*.tgz -C "$work/roboto"
rm -rf "$vendor/design-system" "$vendor/roboto"
mkdir -p "$vendor/design-system/images" "$vendor/roboto"
cp "$work/ds/package/dist/css/design-system.min.css" "$vendor/design-system/"
cp "$work/ds/package/dist/images/icons/icons.stack.svg" "$vendor/design-system/images/"
cp "$work/ds/package/LICENSE.txt" "$vendor/design-system/LICENSE.txt"
echo "@scottish-government/design-system $DESIGN_SYSTEM_VERSION" > "$vendor/design-system/VERSION"
for weight in 300 400 700; do
    cp "$work/roboto/package/files/roboto-latin-$weight-normal.woff2" "$vendor/roboto/"
    cat >> "$vendor/roboto/roboto.css" <<CSS
@font-face {
  font-family: "Roboto";
  font-style: normal;
  font-display: swap;
  font-weight: $weight;
  src: url(roboto-latin-$weight-normal.woff2) format("woff2");
}
CSS
done
cp "$work/roboto/package/LICENSE" "$vendor/roboto/LICENSE.txt"
echo "@fontsource/roboto $ROBOTO_VERSION (latin subset)" > "$vendor/roboto/VERSION"
# The source map names files that are not vendored.
sed -i 's@/\*# sourceMappingURL=[^*]*\*/@@' "$vendor/design-system/design-system.min.css"
echo "Vendored into $vendor"
