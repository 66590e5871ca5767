#!/usr/bin/env bash
# Prints the home of a JDK 25 or newer, or explains what is missing and exits 1.
# Order: $FOMM4J_JAVA_HOME, $JAVA_HOME, Temurin 25 at its usual place, any JDK under /usr/lib/jvm.
java_major() {
  local v
  v=$("$1/bin/java" -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java.specification.version = //p')
  echo "${v%%.*}"
}
# FOMM4J_JDK_ROOT replaces /usr/lib/jvm (for machines with JDKs elsewhere, and for testing this message).
root="${FOMM4J_JDK_ROOT:-/usr/lib/jvm}"
for cand in "${FOMM4J_JAVA_HOME:-}" "${JAVA_HOME:-}" "$root"/temurin-25-jdk-amd64 "$root"/temurin-25* "$root"/*; do
  [ -n "$cand" ] && [ -x "$cand/bin/java" ] && [ -x "$cand/bin/javac" ] || continue
  m=$(java_major "$cand")
  if [ -n "$m" ] && [ "$m" -ge 25 ] 2>/dev/null; then
    echo "$cand"
    exit 0
  fi
done
echo "fomm4j needs a JDK 25 or newer (for jdk.incubator.vector and the FFM API), and none was found." >&2
echo "Looked at \$FOMM4J_JAVA_HOME, \$JAVA_HOME, $root/temurin-25-jdk-amd64 and $root/*." >&2
echo "Install Temurin 25 (or another JDK 25) and set JAVA_HOME to it." >&2
exit 1
