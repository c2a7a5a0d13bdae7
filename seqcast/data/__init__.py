"""Data: CSV files and tickers read into validated series, dates, frequencies and future calendars."""
