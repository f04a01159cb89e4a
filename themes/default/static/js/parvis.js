// Progressive enhancements only: every page and form works without this file.
