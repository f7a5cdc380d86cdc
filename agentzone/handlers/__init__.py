"""Lambda code, kept as plain modules so tests import and run it in-process (moto).

This directory is the Lambda asset: modules here may only import boto3 and the
standard library.
"""
