"""Tests of the HTTP API, the web page and `ally serve`."""
