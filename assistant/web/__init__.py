"""The web chat page's static assets (static/index.html, app.js, style.css), served by assistant.api."""
