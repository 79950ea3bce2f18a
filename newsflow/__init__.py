"""newsflow: Vietnamese provincial-government news into structured, trustworthy JSON records."""

__version__ = "0.1.0"
