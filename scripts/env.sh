# Sourced by the other scripts: keep wrangler offline, quiet, and its state inside the repo.
export WRANGLER_SEND_METRICS=false
export WRANGLER_SEND_ERROR_REPORTS=false
export XDG_CONFIG_HOME="$PWD/.wrangler/config"
export WRANGLER_LOG_PATH="$PWD/.wrangler/logs"
export PATH="$PWD/node_modules/.bin:$PATH"
mkdir -p "$XDG_CONFIG_HOME" "$WRANGLER_LOG_PATH"
# ccache (CMakeLists.txt): paths under the repo hash as relative ones, so every clone shares the cache.
export CCACHE_BASEDIR="$PWD"
# The precompiled headers (CMakeLists.txt) are only cacheable with these.
export CCACHE_SLOPPINESS="pch_defines,time_macros,include_file_mtime,include_file_ctime"
