"""SMS over SMPP 3.4: `SmppGateway` (client.py) and its errors (errors.py)."""
