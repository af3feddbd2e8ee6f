# Translations of the dashboard (Flask-Babel): .po catalogues are the source, .mo files are built from them.
# `make translations` compiles them (setup does it too); `make translations-extract` refreshes messages.pot and
# merges new strings into every catalogue. Besides _() and _l(), it collects the English messages of Text(...) and
# UserError(...) (webapp/text.py): API clients get them in English, pages show them translated.
PO_FILES := $(wildcard webapp/translations/*/LC_MESSAGES/messages.po)
MO_FILES := $(PO_FILES:.po=.mo)

.PHONY: translations translations-extract

webapp/translations/%/LC_MESSAGES/messages.mo: webapp/translations/%/LC_MESSAGES/messages.po $(VENV_STAMP)
	@$(VENV)/bin/pybabel compile --use-fuzzy --statistics -i $< -o $@

translations: $(MO_FILES) ## compile the dashboard's translations (English, Malay)

translations-extract: $(VENV_STAMP) ## collect marked strings into messages.pot and merge them into each catalogue
	$(VENV)/bin/pybabel --quiet extract -F webapp/babel.cfg -k _l -k Text -k UserError --no-wrap --sort-by-file -o webapp/translations/messages.pot webapp
	$(VENV)/bin/pybabel --quiet update --no-wrap --ignore-obsolete -i webapp/translations/messages.pot -d webapp/translations
