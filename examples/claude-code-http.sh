# Over HTTP: start the server once (it keeps running; each request brings its own key):
#   posthog-notebooks-mcp --http
# Your PostHog; your shell puts your key in the header now (Claude Code stores the line as expanded):
claude mcp add --transport http --scope user posthog-notebooks http://127.0.0.1:8787/mcp --header "Authorization: Bearer ${POSTHOG_PERSONAL_API_KEY}"
# The sandbox, no account needed (start it with: posthog-notebooks-mcp --http --sandbox):
claude mcp add --transport http posthog-notebooks-sandbox http://127.0.0.1:8787/mcp
